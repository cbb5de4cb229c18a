package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tsdb.testing.Seeds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The optional out-of-order window: accepted like the model says, readable in order, identical after replay. */
class OutOfOrderWindowProperties {
    static final long WINDOW = 1_000;

    /** Model with a window: per series a sorted map t -> bits. */
    static final class WindowModel {
        final TreeMap<Labels, TreeMap<Long, Long>> series = new TreeMap<>();

        boolean apply(Labels l, long t, long bits) {
            TreeMap<Long, Long> s = series.computeIfAbsent(l, k -> new TreeMap<>());
            if (s.isEmpty() || t > s.lastKey()) {
                s.put(t, bits);
                return true;
            }
            Long existing = s.get(t);
            if (existing != null) {
                return existing == bits;
            }
            if (s.lastKey() - t <= WINDOW) {
                s.put(t, bits);
                return true;
            }
            return false;
        }

        String render() {
            Map<Labels, List<long[]>> m = new TreeMap<>();
            series.forEach((l, s) -> {
                List<long[]> out = new ArrayList<>();
                s.forEach((t, b) -> out.add(new long[] {t, b}));
                m.put(l, out);
            });
            return TestUtil.render(m);
        }
    }

    @Test
    void windowedWritesMatchTheModelLiveAndAfterReplay() {
        Seeds.check(20, g -> windowedWrites(g.anyLong(), g.intBetween(1, 25), g.bool()));
    }

    private static void windowedWrites(long seed, int batches, boolean checkpointMidway) throws Exception {
        Path dir = Files.createTempDirectory("tsdb-ooo");
        try {
            StorageOptions opts = TestUtil.small()
                    .outOfOrderWindow(Duration.ofMillis(WINDOW))
                    .checkpointOnClose(false)
                    .build();
            Random r = new Random(seed);
            List<Labels> pool = StorageRoundTripProperties.labelPool(5);
            long[] clock = new long[pool.size()];
            WindowModel model = new WindowModel();
            String live;
            try (StorageImpl s = StorageImpl.open(dir, opts)) {
                for (int b = 0; b < batches; b++) {
                    Appender app = s.appender();
                    List<Object[]> pending = new ArrayList<>();
                    int n = 1 + r.nextInt(r.nextInt(5) == 0 ? 400 : 30);
                    for (int i = 0; i < n; i++) {
                        int k = r.nextInt(pool.size());
                        long t = switch (r.nextInt(4)) {
                            case 0 -> clock[k] - r.nextInt(1500); // may be inside or outside the window
                            case 1 -> clock[k] - r.nextInt(20); // dense disorder
                            default -> clock[k] + 1 + r.nextInt(50);
                        };
                        if (t <= 0) {
                            t = 1 + r.nextInt(10);
                        }
                        clock[k] = Math.max(clock[k], t);
                        double v = r.nextInt(4) == 0 ? StorageRoundTripProperties.VALUES[r.nextInt(12)] : r.nextInt(3);
                        app.append(0, pool.get(k), t, v);
                        pending.add(new Object[] {pool.get(k), t, Double.doubleToRawLongBits(v)});
                    }
                    try {
                        app.commit();
                    } catch (PartialWriteException | SampleRejectedException expected) {
                        // checked against the model
                    }
                    for (Object[] o : pending) {
                        model.apply((Labels) o[0], (Long) o[1], (Long) o[2]);
                    }
                    if (checkpointMidway && b == batches / 2) {
                        s.checkpoint();
                    }
                }
                live = TestUtil.renderStore(s);
                assertEquals(model.render(), live);
            }
            try (StorageImpl s = StorageImpl.open(dir, opts)) {
                assertEquals(live, TestUtil.renderStore(s));
                assertEquals(0, s.stats().replay().outOfOrderSamples());
            }
            // the log is the truth: a reopen without the window replays the accepted samples the same way
            try (StorageImpl s = StorageImpl.open(
                    dir, opts.toBuilder().outOfOrderWindow(Duration.ZERO).build())) {
                assertEquals(live, TestUtil.renderStore(s));
            }
        } finally {
            TestUtil.deleteRecursively(dir);
        }
    }

    @Test
    void outsideTheWindowIsRejectedInsideIsInserted() throws Exception {
        Path dir = Files.createTempDirectory("tsdb-ooo");
        try (StorageImpl s = StorageImpl.open(
                dir,
                TestUtil.small().outOfOrderWindow(Duration.ofMillis(WINDOW)).build())) {
            Labels l = Labels.of("__name__", "w");
            List<Sample> in = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                in.add(new Sample(10_000 + i * 10L, i));
            }
            s.write(new TimeSeries(l, in));
            s.write(new TimeSeries(l, List.of(new Sample(12_995, -1)))); // in order: the newest is now 12,995
            s.write(new TimeSeries(
                    l, List.of(new Sample(12_005, -2)))); // 990 ms older than the newest: inside the window
            s.write(new TimeSeries(l, List.of(new Sample(12_005, -2)))); // idempotent
            assertThrows(
                    DuplicateSampleException.class, () -> s.write(new TimeSeries(l, List.of(new Sample(12_005, -3)))));
            assertThrows(
                    DuplicateSampleException.class, () -> s.write(new TimeSeries(l, List.of(new Sample(12_000, -3)))));
            assertThrows(
                    OutOfOrderSampleException.class, () -> s.write(new TimeSeries(l, List.of(new Sample(11_985, 1)))));
            SampleIterator it = s.iterator(s.seriesRef(l), Long.MIN_VALUE, Long.MAX_VALUE);
            long prev = Long.MIN_VALUE;
            int n = 0;
            while (it.next()) {
                assertEquals(true, it.timestamp() > prev);
                prev = it.timestamp();
                n++;
            }
            assertEquals(302, n);
            assertEquals(302, s.stats().samples());
        } finally {
            TestUtil.deleteRecursively(dir);
        }
    }
}
