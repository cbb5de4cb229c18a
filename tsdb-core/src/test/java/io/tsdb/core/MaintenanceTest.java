package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MaintenanceTest {
    @TempDir
    Path dir;

    @Test
    void periodicCheckpointsRunInTheBackground() throws Exception {
        StorageOptions opts = TestUtil.small()
                .checkpointInterval(Duration.ofMillis(200))
                .checkpointOnClose(false)
                .build();
        String expected;
        try (StorageImpl s = StorageImpl.open(dir, opts)) {
            StorageRoundTripProperties.randomWrites(s, new Random(5), 20, StorageRoundTripProperties.labelPool(8));
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (s.stats().checkpoint().written() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(s.stats().checkpoint().written() > 0, "no background checkpoint within 30 s");
            assertNull(s.lastMaintenanceError());
            expected = TestUtil.renderStore(s);
        }
        try (StorageImpl s = StorageImpl.open(dir, opts)) {
            assertTrue(s.stats().checkpoint().loaded() > 0);
            assertEquals(expected, TestUtil.renderStore(s));
        }
    }

    @Test
    void statsAndPrometheusText() throws Exception {
        try (StorageImpl s = StorageImpl.open(dir, TestUtil.small().build())) {
            s.write(List.of(
                    new TimeSeries(Labels.of("__name__", "a"), List.of(new Sample(1, 1), new Sample(2, 2))),
                    new TimeSeries(Labels.of("__name__", "b"), List.of(new Sample(1, 1)))));
            try {
                s.write(new TimeSeries(Labels.of("__name__", "a"), List.of(new Sample(2, 5))));
            } catch (DuplicateSampleException expected) {
                // counted as rejected
            }
            StorageStats st = s.stats();
            assertEquals(2, st.series());
            assertEquals(3, st.samples());
            assertEquals(2, st.chunks());
            assertEquals(3, st.samplesWritten());
            assertEquals(1, st.samplesRejected());
            assertTrue(st.headChunkBytes() > 0);
            assertEquals(st.headChunkBytes() / 3.0, st.headBytesPerSample(), 1e-9);
            assertTrue(st.walDiskBytes() >= 0);
            assertEquals(4, st.perShard().size());
            assertEquals(
                    2,
                    st.perShard().stream().mapToLong(StorageStats.Shard::series).sum());
            assertEquals(
                    3,
                    st.perShard().stream()
                            .mapToLong(StorageStats.Shard::samples)
                            .sum());
            assertEquals(
                    st.headChunkBytes(),
                    st.perShard().stream()
                            .mapToLong(StorageStats.Shard::headChunkBytes)
                            .sum());
            String text = st.toPrometheusText();
            assertTrue(text.contains("# TYPE tsdb_head_series gauge\ntsdb_head_series 2\n"), text);
            assertTrue(text.contains("tsdb_samples_rejected_total 1\n"), text);
            assertTrue(text.contains("tsdb_replay_seconds "), text);
        }
        try (StorageImpl s =
                StorageImpl.open(dir, TestUtil.small().checkpointOnClose(false).build())) {
            StorageStats.Replay r = s.stats().replay();
            assertTrue(r.seconds() >= 0);
            assertEquals(0, r.samples()); // all came from the shutdown checkpoint
            assertEquals(3, s.stats().checkpoint().loadedSamples());
            assertTrue(r.walRecoveryClean());
        }
    }
}
