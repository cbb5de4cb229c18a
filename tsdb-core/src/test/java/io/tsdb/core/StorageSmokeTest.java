package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StorageSmokeTest {
    @TempDir
    Path dir;

    @Test
    void writeCloseReopen() throws Exception {
        String before;
        try (StorageImpl s = StorageImpl.open(dir, TestUtil.small().build())) {
            List<TimeSeries> batch = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                List<Sample> samples = new ArrayList<>();
                for (int j = 0; j < 300; j++) {
                    samples.add(new Sample(1000L * j, i * 0.5 + j));
                }
                batch.add(new TimeSeries(Labels.of("__name__", "m", "i", Integer.toString(i)), samples));
            }
            s.write(batch);
            before = TestUtil.renderStore(s);
            assertEquals(50, s.stats().series());
            assertEquals(50 * 300, s.stats().samples());
        }
        try (StorageImpl s = StorageImpl.open(dir, TestUtil.small().build())) {
            assertEquals(before, TestUtil.renderStore(s));
            assertTrue(s.stats().checkpoint().loaded() > 0);
        }
        try (StorageImpl s =
                StorageImpl.open(dir, TestUtil.small().checkpointOnClose(false).build())) {
            assertEquals(before, TestUtil.renderStore(s));
        }
    }
}
