package io.tsdb.core;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** Manual benchmark (not a test): promtool-shaped ingest, then reopen. Args: series scrapes workers dir. */
public final class WriteBench {
    public static void main(String[] args) throws Exception {
        int series = Integer.parseInt(args[0]);
        int scrapes = Integer.parseInt(args[1]);
        int workers = Integer.parseInt(args[2]);
        Path dir = Path.of(args[3]);
        TestUtil.deleteRecursively(dir);
        List<Labels> labels = new ArrayList<>();
        for (int i = 0; i < series; i++) {
            labels.add(Labels.of(
                    "__name__",
                    "metric_" + (i % 100),
                    "instance",
                    "host-" + (i / 100) + ":9100",
                    "job",
                    "node",
                    "cpu",
                    Integer.toString(i % 8),
                    "mode",
                    "user"));
        }
        StorageOptions opts = StorageOptions.builder()
                .checkpointOnClose(true)
                .durability(io.tsdb.wal.Durability.valueOf(args.length > 4 ? args[4] : "PAGE_CACHE"))
                .build();
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long c0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        AtomicLong total = new AtomicLong();
        AtomicLong writerCpu = new AtomicLong();
        try (StorageImpl store = StorageImpl.open(dir, opts)) {
            int batches = (series + 999) / 1000;
            List<Thread> threads = new ArrayList<>();
            java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
            for (int w = 0; w < workers; w++) {
                Thread t = new Thread(() -> {
                    try {
                        int b;
                        while ((b = next.getAndIncrement()) < batches) {
                            int from = b * 1000;
                            int to = Math.min(series, from + 1000);
                            long[] refs = new long[to - from];
                            Appender app = store.appender();
                            for (int s = 0; s < scrapes; s++) {
                                long ts = 30_000L * s;
                                double v = 1000.0 * s;
                                for (int i = from; i < to; i++) {
                                    refs[i - from] = app.append(refs[i - from], labels.get(i), ts, v);
                                }
                                app.commit();
                                total.addAndGet(to - from);
                            }
                        }
                        writerCpu.addAndGet(java.lang.management.ManagementFactory.getThreadMXBean()
                                .getCurrentThreadCpuTime());
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                threads.add(t);
                t.start();
            }
            for (Thread t : threads) {
                t.join();
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf(
                    "cpu ns/sample: %.1f (writer threads %.1f)%n",
                    (os.getProcessCpuTime() - c0) / (double) total.get(), writerCpu.get() / (double) total.get());
            StorageStats st = store.stats();
            System.out.printf("samples/sec: %.0f  (%d samples in %.2fs)%n", total.get() / secs, total.get(), secs);
            store.flush();
            System.out.printf(
                    "wal bytes/sample: %.3f  head bytes/sample: %.3f  series %d%n",
                    (double) store.stats().walDiskBytes() / total.get(), st.headBytesPerSample(), st.series());
            // crash copy
            TestUtil.deleteRecursively(Path.of(dir + "-crash"));
            TestUtil.copyRecursively(dir, Path.of(dir + "-crash"));
        }
        long t1 = System.nanoTime();
        long c1 = os.getProcessCpuTime();
        try (StorageImpl store = StorageImpl.open(dir, opts)) {
            System.out.printf(
                    "replay cpu ns/sample %.1f%n",
                    (os.getProcessCpuTime() - c1) / (double) store.stats().samples());
            System.out.printf(
                    "replay_seconds: %.3f (open %.3f) samples %d%n",
                    store.stats().replay().seconds(),
                    (System.nanoTime() - t1) / 1e9,
                    store.stats().samples());
        }
        t1 = System.nanoTime();
        c1 = os.getProcessCpuTime();
        try (StorageImpl store = StorageImpl.open(
                Path.of(dir + "-crash"),
                opts.toBuilder().checkpointOnClose(false).build())) {
            System.out.printf(
                    "crash replay cpu ns/sample %.1f%n",
                    (os.getProcessCpuTime() - c1) / (double) store.stats().samples());
            System.out.printf(
                    "crash_replay_seconds: %.3f (open %.3f) samples %d %s%n",
                    store.stats().replay().seconds(),
                    (System.nanoTime() - t1) / 1e9,
                    store.stats().samples(),
                    store.stats().replay());
        }
    }
}
