package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RetentionTest {
    @TempDir
    Path dir;

    @Test
    void oldChunksAndSeriesGo() throws Exception {
        StorageOptions opts =
                TestUtil.small().retention(Duration.ofMillis(2000)).build();
        Labels old = Labels.of("__name__", "old");
        Labels live = Labels.of("__name__", "live");
        try (StorageImpl s = StorageImpl.open(dir, opts)) {
            List<Sample> samples = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                samples.add(new Sample(i * 10L, i));
            }
            s.write(new TimeSeries(old, samples.subList(0, 100)));
            s.write(new TimeSeries(live, samples));
            int oldRef = s.seriesRef(old);
            long gen = s.seriesGeneration();
            assertEquals(1, s.applyRetention()); // newest 4990 ms: floor 2990
            assertNull(s.seriesLabels(oldRef));
            assertTrue(s.seriesGeneration() > gen);
            assertEquals(1, s.stats().series());
            assertTrue(s.postings("__name__", "old").isEmpty());
            // chunks of "live" wholly before the floor are gone, the rest is intact
            SampleIterator it = s.iterator(s.seriesRef(live), Long.MIN_VALUE, Long.MAX_VALUE);
            assertTrue(it.next());
            long first = it.timestamp();
            assertEquals(2400, first); // chunks of 120 samples: [0, 1190] and [1200, 2390] dropped
            long n = 1;
            while (it.next()) {
                n++;
            }
            assertEquals(s.stats().samples(), n);
            assertEquals(260, n);
            // before the floor: OutOfBounds; the series can be re-created with recent samples
            org.junit.jupiter.api.Assertions.assertThrows(
                    OutOfBoundsException.class, () -> s.write(new TimeSeries(old, List.of(new Sample(5, 1)))));
            s.write(new TimeSeries(old, List.of(new Sample(4995, 1))));
            assertEquals(2, s.stats().series());
        }
        try (StorageImpl s = StorageImpl.open(dir, opts)) {
            assertEquals(2, s.stats().series());
            assertEquals(List.of(4995L), timestamps(s, old));
        }
        // without a checkpoint the full WAL holds the removed series under its old ref: replay must not
        // resurrect it beside the new one
        java.nio.file.Files.move(dir.resolve("checkpoints"), dir.resolve("hidden"));
        try (StorageImpl s =
                StorageImpl.open(dir, opts.toBuilder().checkpointOnClose(false).build())) {
            assertEquals(2, s.stats().series());
            assertEquals(List.of(4995L), timestamps(s, old));
            assertEquals(2400L, timestamps(s, live).get(0));
        }
    }

    static List<Long> timestamps(StorageImpl s, Labels l) {
        List<Long> out = new ArrayList<>();
        SampleIterator it = s.iterator(s.seriesRef(l), Long.MIN_VALUE, Long.MAX_VALUE);
        while (it.next()) {
            out.add(it.timestamp());
        }
        return out;
    }

    /**
     * Issue 8, point 4: one sample with a timestamp in nanoseconds must not destroy the store. By
     * default it is refused (future bound); with the bound lifted it is kept, and retention, bounded
     * by the clock, still keeps every real sample and accepts the next normal write.
     */
    @Test
    void oneFarFutureSampleNeitherMovesRetentionNorDestroysTheStore() throws Exception {
        long now = 1_765_000_000_000L;
        Labels l = Labels.of("__name__", "temp", "job", "agent");
        StorageOptions defaults =
                TestUtil.small().retention(Duration.ofHours(1)).clock(() -> now).build();
        try (StorageImpl s = StorageImpl.open(dir, defaults)) {
            for (int i = 0; i < 300; i++) {
                s.write(new TimeSeries(l, List.of(new Sample(now - 3_000_000 + i * 10_000L, i))));
            }
            OutOfBoundsException e = org.junit.jupiter.api.Assertions.assertThrows(
                    OutOfBoundsException.class,
                    () -> s.write(new TimeSeries(l, List.of(new Sample(now * 1_000_000, 1)))));
            assertTrue(
                    e.getMessage().contains("maxFutureSkew") && e.getMessage().contains("nanoseconds"), e.getMessage());
            s.write(new TimeSeries(l, List.of(new Sample(now, 300))));
            s.applyRetention();
            assertEquals(301, s.stats().samples());
        }
        Path lifted = dir.resolve("lifted");
        StorageOptions unbounded =
                defaults.toBuilder().maxFutureSkew(Duration.ZERO).build();
        Labels other = Labels.of("__name__", "temp", "job", "clockless");
        try (StorageImpl s = StorageImpl.open(lifted, unbounded)) {
            for (int i = 0; i < 300; i++) {
                s.write(new TimeSeries(l, List.of(new Sample(now - 3_000_000 + i * 10_000L, i))));
            }
            s.write(new TimeSeries(other, List.of(new Sample(now * 1_000_000, 1)))); // accepted: bound lifted
            s.write(new TimeSeries(l, List.of(new Sample(now, 300)))); // the next normal write
            s.applyRetention();
            assertEquals(302, s.stats().samples());
            assertEquals(301, timestamps(s, l).size());
        }
        try (StorageImpl s = StorageImpl.open(lifted, unbounded)) {
            assertEquals(302, s.stats().samples(), "replay applies retention too");
        }
    }
}
