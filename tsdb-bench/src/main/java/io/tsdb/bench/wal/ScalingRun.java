package io.tsdb.bench.wal;

import io.tsdb.bench.util.ProcStats;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;

/**
 * One configuration of the WAL scaling matrix: T writer threads append records of a fixed size
 * with random keys for a warm-up period and then a measured period. Each thread measures its own
 * append-to-acknowledgement latency into an HdrHistogram; lock wait per append comes from the
 * log's own counters (deltas over the measured period).
 */
public final class ScalingRun {

    /** A configuration; {@code shards == 0} is the baseline. */
    public record Config(int shards, int threads, WalTarget.Mode mode, int recordBytes) {
        public String shardsLabel() {
            return shards == 0 ? "baseline" : Integer.toString(shards);
        }
    }

    /** Measured figures of one configuration. */
    public record Result(
            Config config,
            double seconds,
            long appends,
            double appendsPerSec,
            double lockWaitNsPerAppend,
            double p50Us,
            double p99Us,
            double p999Us,
            double maxUs) {

        /** The one line the command prints for this configuration. */
        public String line() {
            return String.format(
                    java.util.Locale.ROOT,
                    "wal-scaling shards=%s threads=%d mode=%s appends_per_sec=%.0f lock_wait_ns_per_append=%.1f p99_us=%.1f",
                    config.shardsLabel(),
                    config.threads(),
                    config.mode().label,
                    appendsPerSec,
                    lockWaitNsPerAppend,
                    p99Us);
        }

        public static String csvHeader() {
            return "shards,threads,mode,record_bytes,seconds,appends,appends_per_sec,lock_wait_ns_per_append,p50_us,p99_us,p999_us,max_us";
        }

        public String csv() {
            return String.format(
                    java.util.Locale.ROOT,
                    "%s,%d,%s,%d,%.3f,%d,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f",
                    config.shardsLabel(),
                    config.threads(),
                    config.mode().label,
                    config.recordBytes(),
                    seconds,
                    appends,
                    appendsPerSec,
                    lockWaitNsPerAppend,
                    p50Us,
                    p99Us,
                    p999Us,
                    maxUs);
        }
    }

    private ScalingRun() {}

    /**
     * Runs one configuration in a fresh directory under {@code dataRoot} (deleted afterwards).
     */
    public static Result run(Config c, Path dataRoot, double warmupSeconds, double seconds)
            throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory(Files.createDirectories(dataRoot), "wal-" + c.shardsLabel() + "-");
        try (WalTarget target = WalTarget.open(dir, c.shards(), c.mode())) {
            return measure(target, c, warmupSeconds, seconds);
        } finally {
            ProcStats.deleteRecursively(dir);
        }
    }

    static Result measure(WalTarget target, Config c, double warmupSeconds, double seconds)
            throws InterruptedException, IOException {
        // phase: 0 warm-up, 1 measured, 2 stop
        final java.util.concurrent.atomic.AtomicInteger phase = new java.util.concurrent.atomic.AtomicInteger(0);
        List<Histogram> hists = new ArrayList<>();
        long[] counts = new long[c.threads()];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch ready = new CountDownLatch(c.threads());
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < c.threads(); i++) {
            Histogram h = new Histogram(60_000_000_000L, 3);
            hists.add(h);
            final int idx = i;
            Thread t = new Thread(
                    () -> {
                        SplittableRandom rnd = new SplittableRandom(0x5eed + idx);
                        byte[] payload = new byte[c.recordBytes()];
                        for (int b = 0; b < payload.length; b++) {
                            payload[b] = (byte) rnd.nextInt(256);
                        }
                        ByteBuffer rec = ByteBuffer.wrap(payload);
                        long n = 0;
                        ready.countDown();
                        try {
                            go.await();
                            while (true) {
                                int p0 = phase.get();
                                if (p0 == 2) {
                                    break;
                                }
                                long key = rnd.nextLong();
                                rec.clear();
                                long t0 = System.nanoTime();
                                target.append(key, rec, t0);
                                long t1 = System.nanoTime();
                                if (p0 == 1 && phase.get() == 1) {
                                    h.recordValue(Math.min(t1 - t0, 60_000_000_000L));
                                    n++;
                                }
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                            phase.set(2);
                        }
                        counts[idx] = n;
                    },
                    "wal-writer-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        ready.await();
        go.countDown();
        sleepSeconds(warmupSeconds);
        long lock0 = target.lockWaitNanosTotal();
        long app0 = target.appendsTotal();
        long start = System.nanoTime();
        phase.compareAndSet(0, 1);
        sleepSeconds(seconds);
        phase.compareAndSet(1, 2);
        long end = System.nanoTime();
        long lock1 = target.lockWaitNanosTotal();
        long app1 = target.appendsTotal();
        phase.set(2);
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new IOException("writer failed in " + c + ": " + failure.get(), failure.get());
        }
        Histogram all = new Histogram(60_000_000_000L, 3);
        long appends = 0;
        for (int i = 0; i < hists.size(); i++) {
            all.add(hists.get(i));
            appends += counts[i];
        }
        double secs = (end - start) / 1e9;
        long logAppends = Math.max(1, app1 - app0);
        return new Result(
                c,
                secs,
                appends,
                appends / secs,
                (lock1 - lock0) / (double) logAppends,
                all.getValueAtPercentile(50) / 1e3,
                all.getValueAtPercentile(99) / 1e3,
                all.getValueAtPercentile(99.9) / 1e3,
                all.getMaxValue() / 1e3);
    }

    private static void sleepSeconds(double s) throws InterruptedException {
        long ms = (long) (s * 1000);
        if (ms > 0) {
            Thread.sleep(ms);
        }
    }
}
