package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tsdb.wal.Disk;
import io.tsdb.wal.Durability;
import io.tsdb.wal.StorageFullException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * RELIABILITY §1.7 / §2.9 through the engine: the WAL's device fills up while writers commit.
 * Commits fail with {@link StorageFullException}; nothing acknowledged is lost; reads keep working;
 * writes resume by themselves once space is back, without a reopen; the reopened store holds every
 * acknowledged sample and no sample that was never attempted. (The WAL module enumerates every
 * write and creation point with its FaultyDisk; this checks the engine on top of it.)
 */
class FullDiskTest {
    @TempDir
    Path dir;

    /** A Disk whose channels throw "No space left on device" on write while {@link #full} is set. */
    static final class FillableDisk implements Disk {
        final AtomicBoolean full = new AtomicBoolean();

        @Override
        public FileChannel open(Path path, Set<? extends OpenOption> options) throws IOException {
            if (full.get() && options.contains(java.nio.file.StandardOpenOption.CREATE_NEW)) {
                throw new java.nio.file.FileSystemException(path.toString(), null, "No space left on device");
            }
            return new Fillable(FileChannel.open(path, options), full);
        }
    }

    static final class Fillable extends io.tsdb.testing.HookedFileChannel {
        private final AtomicBoolean full;

        Fillable(FileChannel d, AtomicBoolean full) {
            super(d);
            this.full = full;
        }

        @Override
        protected void beforeWrite() throws IOException {
            if (full.get()) {
                throw new IOException("No space left on device");
            }
        }
    }

    private static Labels series(int i) {
        return Labels.of("__name__", "disk_test", "i", Integer.toString(i));
    }

    @ParameterizedTest
    @EnumSource(
            value = Durability.class,
            names = {"PAGE_CACHE", "SYNC_BATCH"})
    void commitsFailWhileTheDeviceIsFullAndResumeByThemselves(Durability mode) throws Exception {
        FillableDisk disk = new FillableDisk();
        StorageOptions o = TestUtil.small()
                .durability(mode)
                .walSegmentBytes(16 << 10)
                .walDisk(disk)
                .build();
        Map<Long, Long> acked = new HashMap<>(); // key = series * 1e9 + t, value bits
        Map<Long, Long> attempted = new HashMap<>();
        int series = 20;
        int failures = 0;
        int rounds = 0;
        try (StorageImpl s = StorageImpl.open(dir, o)) {
            for (int round = 0; round < 300; round++) {
                if (round == 100) {
                    disk.full.set(true);
                }
                if (round == 200) {
                    disk.full.set(false);
                }
                Appender app = s.appender();
                long t = 1_000_000L + round * 15_000L;
                List<long[]> batch = new ArrayList<>();
                for (int i = 0; i < series; i++) {
                    double v = round * 100.0 + i;
                    app.append(0, series(i), t, v);
                    long key = i * 1_000_000_000L + round;
                    batch.add(new long[] {key, Double.doubleToRawLongBits(v)});
                    attempted.put(key, Double.doubleToRawLongBits(v));
                }
                try {
                    app.commit();
                    for (long[] k : batch) {
                        acked.put(k[0], k[1]);
                    }
                } catch (StorageFullException e) {
                    failures++;
                    assertTrue(e.getMessage().contains("shard"), e.getMessage());
                    if (round < 100 || round >= 200) {
                        fail("commit failed with space available, round " + round + ": " + e);
                    }
                } catch (IOException e) {
                    // the WAL may also report the failed write-out of an earlier commit's block
                    failures++;
                    assertTrue(round >= 100 && round < 200, "round " + round + ": " + e);
                }
                rounds++;
                // reads keep working throughout
                assertTrue(s.seriesRef(series(0)) >= 0);
            }
            assertTrue(failures > 0, "the full device was noticed");
            // resumed without a reopen: the last rounds were acknowledged
            for (int i = 0; i < series; i++) {
                assertTrue(acked.containsKey(i * 1_000_000_000L + 299), "round 299 acknowledged");
            }
        }
        try (StorageImpl s =
                StorageImpl.open(dir, TestUtil.small().durability(mode).build())) {
            int lost = 0;
            int phantom = 0;
            int found = 0;
            for (int i = 0; i < series; i++) {
                int ref = s.seriesRef(series(i));
                SampleIterator it = s.iterator(ref, Long.MIN_VALUE, Long.MAX_VALUE);
                Map<Long, Long> got = new HashMap<>();
                while (it.next()) {
                    long round = (it.timestamp() - 1_000_000L) / 15_000L;
                    got.put(i * 1_000_000_000L + round, Double.doubleToRawLongBits(it.value()));
                }
                found += got.size();
                for (Map.Entry<Long, Long> e : got.entrySet()) {
                    if (!e.getValue().equals(attempted.get(e.getKey()))) {
                        phantom++;
                    }
                }
                for (Map.Entry<Long, Long> e : acked.entrySet()) {
                    if (e.getKey() / 1_000_000_000L == i && !e.getValue().equals(got.get(e.getKey()))) {
                        lost++;
                    }
                }
            }
            System.out.printf(
                    "engineEnospc mode=%s rounds=%d failedCommits=%d acked=%d found=%d lost=%d phantom=%d walRecoveryClean=%s%n",
                    mode,
                    rounds,
                    failures,
                    acked.size(),
                    found,
                    lost,
                    phantom,
                    s.stats().replay().walRecoveryClean());
            assertEquals(0, lost, "acknowledged samples lost");
            assertEquals(0, phantom, "samples never attempted");
            assertEquals(0, s.stats().replay().corruptRecords());
        }
    }
}
