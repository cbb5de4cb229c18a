package io.tsdb.bench.write;

import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageOptions;
import java.io.PrintStream;
import java.util.Locale;

/** Shared pieces of the bench write command and its writer process. */
public final class BenchWriteSupport {
    private BenchWriteSupport() {}

    /** The store options of the benchmark: the embedded defaults (WAL on, acknowledged at page cache, no fsync per commit, like promtool). */
    public static StorageOptions storageOptions() {
        return StorageOptions.defaults();
    }

    /** Prints the ingest figures, measured in the process that ingested. */
    public static void printIngest(
            PrintStream out, int series, PromtoolWorkload.Result r, StorageImpl store, double flushSeconds) {
        out.printf(Locale.ROOT, "ingest_series: %d%n", series);
        out.printf(Locale.ROOT, "ingest_samples: %d%n", r.samples());
        out.printf(Locale.ROOT, "ingest_seconds: %.3f%n", r.seconds());
        out.printf(Locale.ROOT, "samples/sec: %.1f%n", r.samplesPerSecond());
        out.printf(Locale.ROOT, "commits: %d%n", r.commits());
        out.printf(Locale.ROOT, "commit_p50_us: %.1f%n", r.commitNanos().getValueAtPercentile(50) / 1e3);
        out.printf(Locale.ROOT, "commit_p99_us: %.1f%n", r.commitNanos().getValueAtPercentile(99) / 1e3);
        out.printf(Locale.ROOT, "commit_max_us: %.1f%n", r.commitNanos().getMaxValue() / 1e3);
        out.printf(Locale.ROOT, "wal_flush_seconds: %.3f%n", flushSeconds);
        CoreFigures f = CoreFigures.of(store);
        out.printf(Locale.ROOT, "lock_wait_ns_per_append: %.1f%n", f.lockWaitNsPerAppend());
        out.printf(Locale.ROOT, "wal_bytes: %d%n", f.walBytes());
        out.printf(
                Locale.ROOT, "wal_bytes_per_sample: %.3f%n", r.samples() > 0 ? f.walBytes() / (double) r.samples() : 0);
    }
}
