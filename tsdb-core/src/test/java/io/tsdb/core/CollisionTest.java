package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two label sets with the same hash stay two series (the head chains them and compares labels). */
class CollisionTest {
    @TempDir
    Path dir;

    @Test
    void everySeriesInOneHashBucket() throws Exception {
        StorageOptions opts = TestUtil.small().seriesHash(l -> 42L).build();
        List<Labels> pool = StorageRoundTripProperties.labelPool(12);
        String expected;
        try (StorageImpl s = StorageImpl.open(dir, opts)) {
            Model m = StorageRoundTripProperties.randomWrites(s, new Random(3), 40, pool);
            expected = m.render();
            assertEquals(expected, TestUtil.renderStore(s));
            assertEquals(12, s.stats().series());
            for (Labels l : pool) {
                assertEquals(l, s.seriesLabels(s.seriesRef(l)));
            }
        }
        try (StorageImpl s = StorageImpl.open(dir, opts)) {
            assertEquals(expected, TestUtil.renderStore(s));
        }
        try (StorageImpl s =
                StorageImpl.open(dir, opts.toBuilder().checkpointOnClose(false).build())) {
            // retention-free removal path: remove one of the chain by rollback of a new one
            Appender app = s.appender();
            app.append(0, Labels.of("__name__", "new"), 1, 1);
            app.rollback();
            assertEquals(expected, TestUtil.renderStore(s));
            for (Labels l : pool) {
                assertEquals(l, s.seriesLabels(s.seriesRef(l)));
            }
        }
    }
}
