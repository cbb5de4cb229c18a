package io.tsdb.core.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.core.Appender;
import io.tsdb.core.Labels;
import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageOptions;
import io.tsdb.wal.Durability;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md 2.13, replay idempotence: reopening without writes, with 1, 4 and N replay
 * threads, from the WAL alone or from checkpoints plus the WAL, and after a kill -9 during replay,
 * always yields the same head (SHA-256 over series labels and samples, bit-exact), equal to what
 * was written: valid data is never altered.
 */
class ReplayIdempotenceTest {
    static final int SHARDS = 8;

    @TempDir
    Path tmp;

    /** WAL-only replay (no checkpoint on close), several segments per shard. */
    private static StorageOptions walOnly() {
        return StorageOptions.builder()
                .shards(SHARDS)
                .durability(Durability.PAGE_CACHE)
                .walSegmentBytes(64 << 10)
                .checkpointInterval(Duration.ZERO)
                .checkpointWalBytes(0)
                .checkpointOnClose(false)
                .replayParallelism(2)
                .build();
    }

    /**
     * Writes {@code rounds} rounds of {@code series} series (label sets in gen_series.py's shape, values
     * with NaN payloads, stale markers, ±Inf, -0.0); checkpoints after {@code checkpointAt} rounds
     * (if >= 0) so that the head comes from a checkpoint plus the WAL. Returns the model.
     */
    private static TreeMap<Labels, List<long[]>> populate(Path dir, int series, int rounds, int checkpointAt, long seed)
            throws IOException {
        List<Labels> labels = SeriesGen.labelSets(series, seed);
        TreeMap<Labels, List<long[]>> model = new TreeMap<>();
        for (Labels l : labels) {
            model.put(l, new ArrayList<>());
        }
        try (StorageImpl store = StorageImpl.open(dir, walOnly())) {
            Appender app = store.appender();
            long[] refs = new long[series];
            for (int r = 0; r < rounds; r++) {
                long t = SeriesGen.timestamp(r);
                for (int i = 0; i < series; i++) {
                    // every series skips some rounds, so series differ in length
                    if ((SeriesGen.mix64(i * 31L + r) & 7) == 0) {
                        continue;
                    }
                    long bits = SeriesGen.valueBits(i, t);
                    refs[i] = app.append(refs[i], labels.get(i), t, Double.longBitsToDouble(bits));
                    model.get(labels.get(i)).add(new long[] {t, bits});
                }
                app.commit();
                if (r == checkpointAt) {
                    store.checkpoint();
                }
            }
        }
        return model;
    }

    private static Map<Labels, List<long[]>> reopenAndDump(Path dir, StorageOptions opts) throws IOException {
        try (StorageImpl store = StorageImpl.open(dir, opts)) {
            return StoreContent.dump(store);
        }
    }

    @Test
    void reopeningTwiceWithoutWritesYieldsTheSameHead() throws IOException {
        Path dir = tmp.resolve("twice");
        TreeMap<Labels, List<long[]>> model = populate(dir, 120, 400, 150, 7);
        String expected = StoreContent.hash(model);

        Map<Labels, List<long[]>> first = reopenAndDump(dir, walOnly());
        assertNull(
                StoreContent.firstDifference(model, first), "first reopen (WAL replay) differs from what was written");
        Map<Labels, List<long[]>> second = reopenAndDump(dir, walOnly());
        assertEquals(StoreContent.hash(first), StoreContent.hash(second), "second reopen differs from the first");

        // now with a checkpoint on close: the next opens load checkpoints instead of replaying the WAL
        StorageOptions ckpt = walOnly().toBuilder().checkpointOnClose(true).build();
        Map<Labels, List<long[]>> third = reopenAndDump(dir, ckpt);
        Map<Labels, List<long[]>> fourth = reopenAndDump(dir, ckpt);
        Map<Labels, List<long[]>> fifth = reopenAndDump(dir, walOnly());
        assertEquals(expected, StoreContent.hash(third), "reopen that wrote a checkpoint on close");
        assertEquals(expected, StoreContent.hash(fourth), "reopen from the close-time checkpoints");
        assertEquals(expected, StoreContent.hash(fifth), "reopen after two checkpointed opens");
        Figures.report("replayIdempotence reopens=5 series=" + model.size() + " samples=" + StoreContent.samples(model)
                + " identical=true sha256=" + expected.substring(0, 16));
    }

    @Test
    void replayWithOneFourAndNThreadsYieldsTheSameHead() throws IOException {
        Path dir = tmp.resolve("parallel");
        TreeMap<Labels, List<long[]>> model = populate(dir, 120, 400, 200, 11);
        String expected = StoreContent.hash(model);
        int n = Math.max(SHARDS, Runtime.getRuntime().availableProcessors());
        List<String> hashes = new ArrayList<>();
        for (int p : new int[] {1, 4, n, 1}) {
            Map<Labels, List<long[]>> got = reopenAndDump(
                    dir, walOnly().toBuilder().replayParallelism(p).build());
            assertNull(
                    StoreContent.firstDifference(model, got), "replay with " + p + " threads differs from the model");
            hashes.add(StoreContent.hash(got));
        }
        for (String h : hashes) {
            assertEquals(expected, h, "hashes of replays with 1, 4, " + n + ", 1 threads: " + hashes);
        }
        Figures.report("replayParallelism threads=1,4," + n + ",1 samples=" + StoreContent.samples(model)
                + " identical=true sha256=" + expected.substring(0, 16));
    }

    /** kill -9 of a child JVM while it replays the store, then reopen: nothing altered. */
    @Test
    void killDuringReplayThenReopenYieldsTheSameHead() throws Exception {
        long seed = Figures.seed();
        Path dir = tmp.resolve("killreplay");
        TreeMap<Labels, List<long[]>> model = populate(dir, 200, 1200, -1, seed);
        String expected = StoreContent.hash(model);
        int kills = Figures.longRun() ? 25 : 3;
        Random rnd = new Random(seed);
        // calibrate: how long does the child's open (checkpoint load + WAL replay) take?
        long openNanos;
        {
            Path err = tmp.resolve("replay-child-calibration.err");
            KillNineTest.Child child = KillNineTest.Child.start(List.of("open", dir.toString(), "PAGE_CACHE"), err, 0);
            assertTrue(child.opening.await(120, TimeUnit.SECONDS), "child never started opening: " + readQuietly(err));
            long t0 = System.nanoTime();
            assertTrue(child.ready.await(120, TimeUnit.SECONDS), "child never finished opening: " + readQuietly(err));
            openNanos = System.nanoTime() - t0;
            child.kill();
        }
        int duringOpen = 0;
        int mismatches = 0;
        StringBuilder problems = new StringBuilder();
        for (int k = 0; k < kills; k++) {
            Path err = tmp.resolve("replay-child-" + k + ".err");
            KillNineTest.Child child = KillNineTest.Child.start(List.of("open", dir.toString(), "PAGE_CACHE"), err, 0);
            assertTrue(child.opening.await(120, TimeUnit.SECONDS), "child never started opening: " + readQuietly(err));
            // a random point of the open, mostly inside it (the replay), sometimes just after it
            long delay = (long) (rnd.nextDouble() * 1.2 * openNanos);
            TimeUnit.NANOSECONDS.sleep(delay);
            boolean ready = child.ready.getCount() == 0;
            if (!ready) {
                duringOpen++;
            }
            boolean alive = child.process.isAlive();
            child.kill();
            assertTrue(alive, "child exited by itself: " + child.error + " " + readQuietly(err));
            Map<Labels, List<long[]>> got = reopenAndDump(dir, walOnly());
            String diff = StoreContent.firstDifference(model, got);
            if (diff != null) {
                mismatches++;
                problems.append("kill ")
                        .append(k)
                        .append(ready ? " after" : " during")
                        .append(" open: ")
                        .append(diff)
                        .append('\n');
            }
        }
        Figures.report("killDuringReplay kills=" + kills + " killedDuringOpen=" + duringOpen + " openMs="
                + openNanos / 1_000_000
                + " samples="
                + StoreContent.samples(model) + " mismatches=" + mismatches + " seed=" + seed);
        assertEquals(0, mismatches, "head altered by a kill during replay: " + problems);
        assertEquals(expected, StoreContent.hash(reopenAndDump(dir, walOnly())));
    }

    private static String readQuietly(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }
}
