package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.testing.Seeds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** For any sequence of writes, what is read back (live, after close + open, after a crash) equals the model. */
class StorageRoundTripProperties {

    static final double[] VALUES = {
        0.0,
        -0.0,
        1.5,
        42,
        Double.NaN,
        Sample.STALE_NAN,
        Double.longBitsToDouble(0x7ff8dead0000beefL),
        Double.POSITIVE_INFINITY,
        Double.NEGATIVE_INFINITY,
        1e300,
        -3.25,
        Double.MIN_VALUE
    };

    static List<Labels> labelPool(int n) {
        List<Labels> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(Labels.of("__name__", "metric_" + (i % 3), "instance", "host-" + i, "job", i % 2 == 0 ? "a" : "b"));
        }
        return out;
    }

    /** Writes random batches through write(Collection) and appenders; returns the model. */
    static Model randomWrites(StorageImpl store, Random r, int batches, List<Labels> pool) throws Exception {
        Model model = new Model();
        long[] clock = new long[pool.size()];
        for (int i = 0; i < pool.size(); i++) {
            // continue after what the store already holds, so that later calls write new samples
            int ref = store.seriesRef(pool.get(i));
            SampleIterator it = ref < 0 ? SampleIterator.EMPTY : store.iterator(ref, Long.MIN_VALUE, Long.MAX_VALUE);
            while (it.next()) {
                clock[i] = it.timestamp();
            }
        }
        for (int b = 0; b < batches; b++) {
            boolean viaAppender = r.nextBoolean();
            int n = 1 + r.nextInt(r.nextInt(10) == 0 ? 600 : 40);
            List<Object[]> samples = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int s = r.nextInt(pool.size());
                long t;
                switch (r.nextInt(10)) {
                    case 0 -> t = clock[s] - r.nextInt(3); // out of order or duplicate
                    case 1 -> t = clock[s] + r.nextInt(1_000_000_000);
                    default -> t = clock[s] + 1 + r.nextInt(30_000);
                }
                clock[s] = Math.max(clock[s], t);
                double v = r.nextInt(3) == 0 ? VALUES[r.nextInt(VALUES.length)] : r.nextInt(5) * 1000.0 + b;
                samples.add(new Object[] {pool.get(s), t, v});
            }
            if (viaAppender) {
                Appender app = store.appender();
                for (Object[] o : samples) {
                    app.append(0, (Labels) o[0], (Long) o[1], (Double) o[2]);
                }
                try {
                    app.commit();
                } catch (PartialWriteException | SampleRejectedException expected) {
                    // checked against the model below
                }
                for (Object[] o : samples) {
                    model.apply((Labels) o[0], (Long) o[1], (Double) o[2]);
                }
            } else {
                // group per series keeping order; one TimeSeries per series
                Map<Labels, List<Sample>> grouped = new LinkedHashMap<>();
                for (Object[] o : samples) {
                    grouped.computeIfAbsent((Labels) o[0], k -> new ArrayList<>())
                            .add(new Sample((Long) o[1], (Double) o[2]));
                }
                List<TimeSeries> batch = new ArrayList<>();
                grouped.forEach((l, s) -> batch.add(new TimeSeries(l, s)));
                try {
                    store.write(batch);
                } catch (PartialWriteException | SampleRejectedException expected) {
                    // checked against the model below
                }
                for (TimeSeries ts : batch) {
                    for (Sample s : ts.samples()) {
                        model.apply(ts.labels(), s.timestamp(), s.value());
                    }
                }
            }
        }
        return model;
    }

    @Test
    void closeAndOpenGiveTheSameSeriesAndSamples() {
        Seeds.check(25, g -> closeAndOpenGiveTheSameSeriesAndSamples(g.anyLong(), g.intBetween(1, 30), g.bool()));
    }

    /** One try (also called with more seeds by {@link StorageLongRun}). */
    void closeAndOpenGiveTheSameSeriesAndSamples(long seed, int batches, boolean checkpointOnClose) throws Exception {
        Path dir = Files.createTempDirectory("tsdb-rt");
        try {
            StorageOptions opts =
                    TestUtil.small().checkpointOnClose(checkpointOnClose).build();
            Model model;
            try (StorageImpl s = StorageImpl.open(dir, opts)) {
                model = randomWrites(s, new Random(seed), batches, labelPool(7));
                assertEquals(model.render(), TestUtil.renderStore(s));
            }
            try (StorageImpl s = StorageImpl.open(dir, opts)) {
                assertEquals(model.render(), TestUtil.renderStore(s));
                assertEquals(0, s.stats().replay().unknownRefSamples());
                assertEquals(0, s.stats().replay().corruptRecords());
                assertEquals(0, s.stats().replay().outOfOrderSamples());
                // and it keeps working after reopen
                Model more = randomWrites(s, new Random(seed + 1), 3, labelPool(9));
                for (Map.Entry<Labels, List<long[]>> e : more.series.entrySet()) {
                    for (long[] smp : e.getValue()) {
                        model.apply(e.getKey(), smp[0], Double.longBitsToDouble(smp[1]));
                    }
                }
            }
            // a second reopen sees the same as a third (replay is idempotent)
            String second;
            try (StorageImpl s = StorageImpl.open(dir, opts)) {
                second = TestUtil.renderStore(s);
            }
            try (StorageImpl s =
                    StorageImpl.open(dir, opts.toBuilder().replayParallelism(1).build())) {
                assertEquals(second, TestUtil.renderStore(s));
            }
        } finally {
            TestUtil.deleteRecursively(dir);
        }
    }

    @Test
    void checkpointPlusWalTailEqualsFullWalReplay() {
        Seeds.check(
                20,
                g -> checkpointPlusWalTailEqualsFullWalReplay(g.anyLong(), g.intBetween(1, 15), g.intBetween(0, 15)));
    }

    /** One try (also called with more seeds by {@link StorageLongRun}). */
    void checkpointPlusWalTailEqualsFullWalReplay(long seed, int before, int after) throws Exception {
        Path dir = Files.createTempDirectory("tsdb-ck");
        try {
            StorageOptions opts = TestUtil.small().checkpointOnClose(false).build();
            Random r = new Random(seed);
            String live;
            try (StorageImpl s = StorageImpl.open(dir, opts)) {
                List<Labels> pool = labelPool(6);
                randomWrites(s, r, before, pool);
                s.checkpoint();
                randomWrites(s, r, after, pool);
                live = TestUtil.renderStore(s);
            }
            assertTrue(Files.list(dir.resolve("checkpoints")).findAny().isPresent());
            String fromCheckpoint;
            try (StorageImpl s = StorageImpl.open(dir, opts)) {
                assertEquals(4, s.stats().checkpoint().loaded());
                fromCheckpoint = TestUtil.renderStore(s);
            }
            // hide the checkpoints: the full WAL is still there (a single checkpoint never truncates it)
            Files.move(dir.resolve("checkpoints"), dir.resolve("checkpoints-hidden"));
            String fromWal;
            try (StorageImpl s = StorageImpl.open(dir, opts)) {
                assertEquals(0, s.stats().checkpoint().loaded());
                fromWal = TestUtil.renderStore(s);
            }
            assertEquals(live, fromCheckpoint);
            assertEquals(live, fromWal);
        } finally {
            TestUtil.deleteRecursively(dir);
        }
    }
}
