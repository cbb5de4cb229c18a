package io.tsdb.wal;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Power-loss images taken while writers run: unsynced segment bytes are kept, dropped, zeroed or
 * garbled, segments created without a directory fsync are lost. SYNC_BATCH: nothing acknowledged
 * is lost; every mode: per key a gap-free prefix of what was attempted, no phantom.
 */
class PowerLossTest {
    @TempDir
    Path tmp;

    static final boolean LONG = Boolean.getBoolean("tsdb.long");

    @Test
    void syncBatchLosesNothingAcknowledged() throws Exception {
        run(Durability.SYNC_BATCH);
    }

    @Test
    void pageCacheKeepsAPrefix() throws Exception {
        run(Durability.PAGE_CACHE);
    }

    private void run(Durability mode) throws Exception {
        int images = LONG ? 40 : 8;
        Random rnd = new Random(mode.ordinal() * 1000L + 17);
        for (int img = 0; img < images; img++) {
            FaultyDisk disk = new FaultyDisk();
            Path live = tmp.resolve(mode + "-live" + img);
            int threads = 6, keysPerThread = 3;
            AtomicLongArray acked = new AtomicLongArray(threads * keysPerThread);
            AtomicLongArray attempted = new AtomicLongArray(threads * keysPerThread);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> err = new AtomicReference<>();
            WalOptions o = WalOptions.builder()
                    .shards(3)
                    .durability(mode)
                    .segmentBytes(4096)
                    .disk(disk)
                    .build();
            ShardedWAL wal = ShardedWAL.open(live, o);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final int tid = t;
                Thread th = new Thread(() -> {
                    int i = 0;
                    while (!stop.get()) {
                        int key = tid * keysPerThread + (i++ % keysPerThread);
                        long seq = attempted.get(key) + 1;
                        attempted.set(key, seq);
                        ByteBuffer b = ByteBuffer.allocate(16 + (int) (seq % 50));
                        b.putLong(0, key).putLong(8, seq);
                        try {
                            wal.append(key, b, seq);
                            acked.set(key, seq);
                        } catch (WalClosedException closed) {
                            return;
                        } catch (Throwable e) {
                            err.compareAndSet(null, e);
                            return;
                        }
                    }
                });
                ts.add(th);
                th.start();
            }
            Thread.sleep(30 + rnd.nextInt(120));
            // the oracle: acknowledged before the image is taken
            long[] ackedAtCrash = new long[acked.length()];
            for (int k = 0; k < ackedAtCrash.length; k++) ackedAtCrash[k] = acked.get(k);
            long ackedTotal = 0;
            for (long a : ackedAtCrash) ackedTotal += a;
            assertTrue(ackedTotal > 0, "nothing acknowledged before the crash");
            Path image = tmp.resolve(mode + "-image" + img);
            int tailMode = img % 4;
            disk.powerLossImage(live, image, tailMode, rnd);
            stop.set(true);
            for (Thread th : ts) th.join();
            wal.close();
            if (err.get() != null) throw new AssertionError("writer failed", err.get());
            long[] attemptedMax = new long[attempted.length()];
            for (int k = 0; k < attemptedMax.length; k++) attemptedMax[k] = attempted.get(k);

            try (ShardedWAL rec = ShardedWAL.open(image, WalOptions.builder().build())) {
                assertTrue(
                        rec.recoveryReport().failedShards().isEmpty(),
                        rec.recoveryReport().toString());
                Map<Long, Long> last = new HashMap<>();
                List<String> problems = new ArrayList<>();
                rec.replay(
                        sh -> (off, b) -> {
                            long key = b.getLong(b.position());
                            long seq = b.getLong(b.position() + 8);
                            synchronized (last) {
                                long prev = last.getOrDefault(key, 0L);
                                if (seq != prev + 1) problems.add("key " + key + ": seq " + seq + " after " + prev);
                                if (key < 0 || key >= attemptedMax.length || seq > attemptedMax[(int) key])
                                    problems.add("phantom " + key + "/" + seq);
                                if (b.remaining() != 16 + (int) (seq % 50))
                                    problems.add("bad length " + key + "/" + seq);
                                last.put(key, seq);
                            }
                        },
                        null,
                        3);
                assertEquals(List.of(), problems, "image " + img + " tail mode " + tailMode);
                if (mode == Durability.SYNC_BATCH) {
                    for (int k = 0; k < ackedAtCrash.length; k++) {
                        assertTrue(
                                last.getOrDefault((long) k, 0L) >= ackedAtCrash[k],
                                "image " + img + " tail mode "
                                        + tailMode + ": key " + k + " lost acknowledged records: recovered "
                                        + last.getOrDefault((long) k, 0L) + " < acked " + ackedAtCrash[k] + "\n"
                                        + rec.recoveryReport());
                    }
                }
            }
            TestFiles.deleteTree(live);
            TestFiles.deleteTree(image);
        }
    }
}
