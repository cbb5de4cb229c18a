package io.tsdb.bench.write;

import io.tsdb.bench.util.JsonLines;
import io.tsdb.bench.util.Progress;
import io.tsdb.core.Labels;
import io.tsdb.core.StorageImpl;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * The workload of {@code promtool tsdb bench write} (Prometheus {@code cmd/promtool/tsdb.go},
 * {@code ingestScrapes} / {@code ingestScrapesShard}), reproduced step for step:
 * <ul>
 *   <li>label sets: the first M distinct lines of a JSON-lines file;</li>
 *   <li>scrapes run in rounds of 100; in each round the series are cut into batches of 1000 and
 *       every batch runs concurrently (promtool: one goroutine per batch, scheduled on GOMAXPROCS
 *       threads; here: a pool of {@code availableProcessors} threads), and the round waits for all;</li>
 *   <li>a batch starts each round with fresh state, like promtool's goroutine: no cached refs
 *       (the first append of a round resolves each series by its labels) and every value back at
 *       123456789; each scrape does {@code ts += 30000}, {@code value += 1000} per series, appends
 *       all series of the batch through one appender and commits once;</li>
 *   <li>timestamps start at {@code 30000 * roundStart}, so scrape k (0-based, overall) has
 *       {@code ts = 30000 * (k + 1)}.</li>
 * </ul>
 * One difference: promtool always runs whole rounds of 100 scrapes (its --scrapes is effectively
 * rounded up to a multiple of 100); here the last round runs only the scrapes left, so that
 * {@code --scrapes 5} means 5. For multiples of 100 (e.g. the 3000 of the comparison) the two are
 * identical.
 */
public final class PromtoolWorkload {
    public static final long TIME_DELTA_MS = 30_000;
    public static final long INITIAL_VALUE = 123_456_789;
    public static final long VALUE_STEP = 1000;
    public static final int BATCH_SERIES = 1000;
    public static final int ROUND_SCRAPES = 100;

    private PromtoolWorkload() {}

    /** The first {@code max} distinct label sets of a JSON-lines file (duplicates skipped, as promtool does). */
    public static List<Labels> readLabelSets(Path file, int max) throws IOException {
        Set<Labels> seen = new LinkedHashSet<>();
        if (max > 0) {
            JsonLines.scan(file, m -> {
                seen.add(Labels.of(m));
                return seen.size() < max;
            });
        }
        return new ArrayList<>(seen);
    }

    /** What one ingest run measured. */
    public record Result(long samples, double seconds, Histogram commitNanos, long commits) {
        public double samplesPerSecond() {
            return seconds > 0 ? samples / seconds : 0;
        }
    }

    /**
     * Runs the workload on {@code store} with a pool of {@code threads} threads. Each batch's
     * commit latency goes into a histogram (nanoseconds).
     */
    public static Result ingest(StorageImpl store, List<Labels> series, int scrapes, int threads, Progress progress)
            throws IOException, InterruptedException {
        List<List<Labels>> batches = new ArrayList<>();
        for (int i = 0; i < series.size(); i += BATCH_SERIES) {
            batches.add(series.subList(i, Math.min(series.size(), i + BATCH_SERIES)));
        }
        int poolSize = Math.max(1, Math.min(threads, batches.size()));
        ExecutorService pool = Executors.newFixedThreadPool(poolSize, r -> {
            Thread t = new Thread(r, "ingest");
            t.setDaemon(true);
            return t;
        });
        List<Histogram> hists = new ArrayList<>();
        AtomicLong total = new AtomicLong();
        AtomicLong commits = new AtomicLong();
        long start = System.nanoTime();
        try {
            for (int round = 0; round < scrapes; round += ROUND_SCRAPES) {
                int n = Math.min(ROUND_SCRAPES, scrapes - round);
                long baseTs = TIME_DELTA_MS * round;
                List<Future<Long>> futures = new ArrayList<>();
                for (List<Labels> batch : batches) {
                    Histogram h = new Histogram(60_000_000_000L, 2);
                    hists.add(h);
                    futures.add(pool.submit(() -> ingestBatch(store, batch, n, baseTs, h, commits)));
                }
                for (Future<Long> f : futures) {
                    try {
                        total.addAndGet(f.get());
                    } catch (ExecutionException e) {
                        Throwable c = e.getCause();
                        if (c instanceof IOException io) {
                            throw io;
                        }
                        if (c instanceof RuntimeException re) {
                            throw re;
                        }
                        throw new IOException("ingest failed: " + c, c);
                    }
                }
                if (progress != null) {
                    progress.update(round + n, String.format("%.2fM samples", total.get() / 1e6));
                }
            }
        } finally {
            pool.shutdownNow();
        }
        double secs = (System.nanoTime() - start) / 1e9;
        Histogram all = new Histogram(60_000_000_000L, 2);
        for (Histogram h : hists) {
            all.add(h);
        }
        return new Result(total.get(), secs, all, commits.get());
    }

    private static long ingestBatch(
            StorageImpl store, List<Labels> batch, int scrapes, long baseTs, Histogram h, AtomicLong commits)
            throws IOException {
        int n = batch.size();
        long[] refs = new long[n];
        long[] values = new long[n];
        java.util.Arrays.fill(values, INITIAL_VALUE);
        long ts = baseTs;
        long total = 0;
        for (int s = 0; s < scrapes; s++) {
            var app = store.appender();
            ts += TIME_DELTA_MS;
            for (int i = 0; i < n; i++) {
                values[i] += VALUE_STEP;
                refs[i] = app.append(refs[i], batch.get(i), ts, (double) values[i]);
                total++;
            }
            long t0 = System.nanoTime();
            app.commit();
            h.recordValue(Math.min(System.nanoTime() - t0, 60_000_000_000L));
            commits.incrementAndGet();
        }
        return total;
    }
}
