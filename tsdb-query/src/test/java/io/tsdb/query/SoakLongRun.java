package io.tsdb.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.core.Appender;
import io.tsdb.core.Labels;
import io.tsdb.core.SampleIterator;
import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageOptions;
import io.tsdb.query.promql.PromqlEngine;
import io.tsdb.query.promql.QueryResult;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Soak (issue 8): writer threads, concurrent PromQL queries, checkpoints and retention together
 * for a bounded time. Passes when the heap stays bounded once retention is in steady state, every
 * acknowledged sample inside the retention is readable at the end and after a restart, and no
 * query ever sees a sample that was not attempted or whose value differs from what was written.
 *
 * <p>Only in the {@code long} profile ({@code ./mvnw -Plong -pl tsdb-query -am test
 * -Dtest=SoakLongRun -Dsurefire.failIfNoSpecifiedTests=false}); {@code -Dtsdb.soak.seconds=N}
 * sets the duration (default 60). It prints one summary line for the report.
 *
 * <p>Time is synthetic: scrape {@code k} of every series is at {@code T0 + k * STEP}, and the
 * store's clock is the newest scrape written, so retention (30 synthetic minutes) turns over
 * every few seconds of real time. Values are {@code k * 1000 + series}: any sample read can be
 * checked on its own.
 */
class SoakLongRun {
    private static final long T0 = 1_700_000_000_000L;
    private static final long STEP = 10_000;
    private static final int WRITERS = 4;
    private static final int SERIES_PER_WRITER = 50;
    private static final Duration RETENTION = Duration.ofMinutes(30);
    /** A writer stays at most this many scrapes ahead of the slowest (so none falls below the retention floor). */
    private static final int MAX_LEAD = 20;

    @TempDir
    Path dir;

    private final AtomicLong clock = new AtomicLong(T0);
    /** Per writer: the newest scrape attempted (append started) and acknowledged (commit returned). */
    private final AtomicLongArray attempted = new AtomicLongArray(WRITERS);

    private final AtomicLongArray acked = new AtomicLongArray(WRITERS);
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();

    private static Labels labels(int w, int i) {
        return Labels.of("__name__", "soak", "writer", "w" + w, "s", Integer.toString(i));
    }

    private static double value(long k, int i) {
        return k * 1000.0 + i;
    }

    private StorageOptions options() {
        return StorageOptions.builder()
                .shards(4)
                .retention(RETENTION)
                .clock(clock::get)
                .checkpointInterval(Duration.ZERO)
                .checkpointWalBytes(0)
                .build();
    }

    @Test
    void writersQueriesCheckpointsAndRetentionTogether() throws Exception {
        long seconds = Long.getLong("tsdb.soak.seconds", 60);
        for (int w = 0; w < WRITERS; w++) {
            attempted.set(w, -1);
            acked.set(w, -1);
        }
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        List<long[]> heap = new ArrayList<>(); // {elapsed ms, used heap after GC}
        AtomicLong queries = new AtomicLong();
        AtomicLong pointsChecked = new AtomicLong();
        AtomicLong checkpoints = new AtomicLong();
        AtomicLong retentionRuns = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        StorageImpl store = StorageImpl.open(dir, options());
        PromqlEngine engine = new PromqlEngine(store);
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            final int writer = w;
            threads.add(new Thread(() -> write(store, writer, stop), "soak-writer-" + w));
        }
        for (int q = 0; q < 2; q++) {
            final long seed = 1000 + q;
            threads.add(
                    new Thread(() -> query(engine, new Random(seed), stop, queries, pointsChecked), "soak-query-" + q));
        }
        threads.add(new Thread(
                () -> {
                    long n = 0;
                    while (!stop.get()) {
                        try {
                            Thread.sleep(250);
                            store.applyRetention();
                            retentionRuns.incrementAndGet();
                            if (++n % 8 == 0) {
                                store.checkpoint();
                                checkpoints.incrementAndGet();
                            }
                        } catch (Throwable t) {
                            failures.add("maintenance: " + t);
                            return;
                        }
                    }
                },
                "soak-maintenance"));
        long start = System.nanoTime();
        threads.forEach(Thread::start);
        long end = start + seconds * 1_000_000_000L;
        while (System.nanoTime() < end && failures.isEmpty()) {
            Thread.sleep(Math.min(5_000, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            System.gc();
            heap.add(new long[] {
                (System.nanoTime() - start) / 1_000_000,
                mem.getHeapMemoryUsage().getUsed()
            });
            if (Boolean.getBoolean("tsdb.soak.histo")) {
                Process p = new ProcessBuilder(
                                Path.of(System.getProperty("java.home"), "bin", "jcmd")
                                        .toString(),
                                Long.toString(ProcessHandle.current().pid()),
                                "GC.class_histogram")
                        .redirectErrorStream(true)
                        .start();
                List<String> lines = new String(p.getInputStream().readAllBytes())
                        .lines()
                        .limit(14)
                        .toList();
                System.out.println(
                        "soak histogram at " + heap.get(heap.size() - 1)[0] / 1000 + "s:\n" + String.join("\n", lines));
            }
        }
        stop.set(true);
        for (Thread t : threads) {
            t.join(60_000);
            assertTrue(!t.isAlive(), t.getName() + " did not stop");
        }
        assertTrue(failures.isEmpty(), "failures: " + failures);

        long samplesWritten = store.stats().samplesWritten();
        store.applyRetention();
        long checkedLive = verifyStore(store, "live");
        store.close();
        long checkedReopened;
        try (StorageImpl reopened = StorageImpl.open(dir, options())) {
            checkedReopened = verifyStore(reopened, "reopened");
        }
        assertEquals(checkedLive, checkedReopened, "the restart kept every sample the live store held");

        // heap: once retention has turned over (after the first third), it must not keep growing:
        // the last third's peak stays within 1.5x the middle third's (WAL segments roll and are
        // truncated in steps, so the live heap is a sawtooth, not a constant)
        int third = Math.max(1, heap.size() / 3);
        long early = heap.subList(third, Math.min(heap.size(), 2 * third)).stream()
                .mapToLong(h -> h[1])
                .max()
                .orElse(0);
        long late = heap.subList(Math.min(heap.size() - 1, 2 * third), heap.size()).stream()
                .mapToLong(h -> h[1])
                .max()
                .orElse(0);
        StringBuilder trace = new StringBuilder();
        for (long[] h : heap) {
            trace.append(String.format(Locale.ROOT, " %ds:%.1fMB", h[0] / 1000, h[1] / 1e6));
        }
        System.out.printf(
                Locale.ROOT,
                "soak seconds=%d writers=%d series=%d samplesWritten=%d scrapes=%d queries=%d "
                        + "pointsChecked=%d checkpoints=%d retentionRuns=%d samplesVerified=%d heapMiddleThirdMaxMB=%.1f "
                        + "heapLastThirdMaxMB=%.1f lost=0 invented=0%n",
                seconds,
                WRITERS,
                WRITERS * SERIES_PER_WRITER,
                samplesWritten,
                acked.get(0) + 1,
                queries.get(),
                pointsChecked.get(),
                checkpoints.get(),
                retentionRuns.get(),
                checkedLive,
                early / 1e6,
                late / 1e6);
        System.out.println("soak heap after GC:" + trace);
        assertTrue(queries.get() > 0 && checkpoints.get() > 0, "queries and checkpoints ran");
        assertTrue(acked.get(0) > 2 * RETENTION.toMillis() / STEP, "retention turned over at least twice");
        assertTrue(
                late <= early * 3 / 2 + (8L << 20),
                "heap grew: middle third's max " + early + ", last third's " + late + ";" + trace);
    }

    private void write(StorageImpl store, int w, AtomicBoolean stop) {
        long[] refs = new long[SERIES_PER_WRITER];
        try (Appender app = store.appender()) {
            for (long k = 0; !stop.get(); k++) {
                while (k > minAcked() + MAX_LEAD && !stop.get()) {
                    Thread.onSpinWait();
                }
                long t = T0 + k * STEP;
                attempted.set(w, k);
                clock.accumulateAndGet(t, Math::max);
                for (int i = 0; i < SERIES_PER_WRITER; i++) {
                    refs[i] = app.append(refs[i], labels(w, i), t, value(k, i));
                }
                app.commit();
                acked.set(w, k);
                if ((k & 7) == 0) {
                    Thread.sleep(1); // keep ingest near 100k samples/s: the WAL and the CPU stay sane on 2 cores
                }
            }
        } catch (Throwable t) {
            failures.add("writer " + w + ": " + t);
        }
    }

    private long minAcked() {
        long m = Long.MAX_VALUE;
        for (int w = 0; w < WRITERS; w++) {
            m = Math.min(m, acked.get(w));
        }
        return m;
    }

    /** Checks one point read by a query: on the grid, attempted, and with the value written. */
    private String checkPoint(Labels l, long t, double v) {
        int w = Integer.parseInt(l.get("writer").substring(1));
        int i = Integer.parseInt(l.get("s"));
        if ((t - T0) % STEP != 0) {
            return "off-grid timestamp " + t + " for " + l;
        }
        long k = (t - T0) / STEP;
        if (k < 0 || k > attempted.get(w)) {
            return "scrape " + k + " of " + l + " was never attempted (newest attempted " + attempted.get(w) + ")";
        }
        if (Double.doubleToRawLongBits(v) != Double.doubleToRawLongBits(value(k, i))) {
            return "value " + v + " at scrape " + k + " of " + l + ", written " + value(k, i);
        }
        return null;
    }

    private void query(PromqlEngine engine, Random r, AtomicBoolean stop, AtomicLong queries, AtomicLong points) {
        try {
            while (!stop.get()) {
                int w = r.nextInt(WRITERS);
                int i = r.nextInt(SERIES_PER_WRITER);
                Instant at = Instant.ofEpochMilli(clock.get());
                QueryResult res = engine.instantQuery("soak{writer=\"w" + w + "\",s=\"" + i + "\"}[5m]", at);
                for (QueryResult.SeriesPoints s : ((QueryResult.Matrix) res.value()).series()) {
                    for (QueryResult.Point p : s.points()) {
                        String bad = checkPoint(s.labels(), p.timestamp(), p.value());
                        if (bad != null) {
                            failures.add("query saw " + bad);
                            return;
                        }
                        points.incrementAndGet();
                    }
                }
                QueryResult count = engine.instantQuery("count(soak)", at);
                for (QueryResult.VectorSample v : ((QueryResult.Vector) count.value()).samples()) {
                    if (v.value() > WRITERS * SERIES_PER_WRITER) {
                        failures.add(
                                "count(soak) = " + v.value() + " > " + WRITERS * SERIES_PER_WRITER + " series written");
                        return;
                    }
                }
                QueryResult rates = engine.instantQuery("sum by (writer) (rate(soak[1m]))", at);
                for (QueryResult.VectorSample v : ((QueryResult.Vector) rates.value()).samples()) {
                    // each series grows by 1000 per 10 s scrape: 100/s; 50 series per writer
                    if (!(v.value() >= 0 && v.value() <= 2 * 100.0 * SERIES_PER_WRITER)) {
                        failures.add("rate of " + v.labels() + " = " + v.value());
                        return;
                    }
                }
                queries.addAndGet(3);
            }
        } catch (Throwable t) {
            failures.add("query: " + t);
        }
    }

    /** Every acknowledged scrape at or after the retention floor is there; every sample held is valid. Returns samples held. */
    private long verifyStore(StorageImpl store, String when) {
        long newest = Long.MIN_VALUE;
        for (int w = 0; w < WRITERS; w++) {
            newest = Math.max(newest, T0 + attempted.get(w) * STEP);
        }
        long floor = Math.min(newest, clock.get()) - RETENTION.toMillis();
        long held = 0;
        for (int w = 0; w < WRITERS; w++) {
            long firstKept = Math.max(0, Math.floorDiv(floor - T0 + STEP - 1, STEP));
            for (int i = 0; i < SERIES_PER_WRITER; i++) {
                Labels l = labels(w, i);
                int ref = store.seriesRef(l);
                assertTrue(ref >= 0, when + ": series " + l + " is gone");
                SampleIterator it = store.iterator(ref, Long.MIN_VALUE, Long.MAX_VALUE);
                long expectK = -1;
                while (it.next()) {
                    String bad = checkPoint(l, it.timestamp(), it.value());
                    assertEquals(null, bad, when);
                    long k = (it.timestamp() - T0) / STEP;
                    if (expectK >= 0) {
                        assertEquals(expectK, k, when + ": gap in " + l);
                    }
                    expectK = k + 1;
                    held++;
                }
                assertTrue(
                        expectK - 1 >= acked.get(w),
                        when + ": " + l + " ends at scrape " + (expectK - 1) + ", acknowledged " + acked.get(w));
                SampleIterator first = store.iterator(ref, Long.MIN_VALUE, Long.MAX_VALUE);
                assertTrue(
                        first.next() && (first.timestamp() - T0) / STEP <= firstKept,
                        when + ": " + l + " lost acknowledged samples inside the retention (first kept scrape "
                                + firstKept + ")");
            }
        }
        return held;
    }
}
