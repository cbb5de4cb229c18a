package io.tsdb.bench.write;

import io.tsdb.bench.util.ProcStats;
import io.tsdb.bench.util.Progress;
import io.tsdb.core.Labels;
import io.tsdb.core.StorageImpl;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The writer process of {@code tsdb bench write}: opens the store, runs the promtool workload,
 * flushes the WAL (what promtool has written when its ingest ends), prints its figures and the
 * {@link #READY} marker, then waits to be killed by the parent ({@code destroyForcibly}), so the
 * directory is left exactly as a killed writer leaves it: no close, no shutdown checkpoint. If the
 * parent goes away (stdin closes), the child halts the same way, without closing the store.
 *
 * <p>Arguments: {@code STORE_DIR SERIES_FILE METRICS SCRAPES THREADS}.
 */
public final class IngestChild {
    public static final String READY = "##tsdb-bench-child-ready##";

    private IngestChild() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: IngestChild STORE_DIR SERIES_FILE METRICS SCRAPES THREADS");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        Path file = Path.of(args[1]);
        int metrics = Integer.parseInt(args[2]);
        int scrapes = Integer.parseInt(args[3]);
        int threads = Integer.parseInt(args[4]);
        PrintStream out = System.out;
        try {
            List<Labels> series = PromtoolWorkload.readLabelSets(file, metrics);
            StorageImpl store = StorageImpl.open(dir, BenchWriteSupport.storageOptions());
            Progress progress = new Progress("ingest", scrapes);
            PromtoolWorkload.Result r = PromtoolWorkload.ingest(store, series, scrapes, threads, progress);
            progress.done();
            long f0 = System.nanoTime();
            store.flush();
            double flushSecs = (System.nanoTime() - f0) / 1e9;
            BenchWriteSupport.printIngest(out, series.size(), r, store, flushSecs);
            out.printf(Locale.ROOT, "writer_peak_rss_bytes: %d%n", ProcStats.peakRssBytes());
            out.println(READY);
            out.flush();
        } catch (Throwable e) {
            System.err.println("bench write (writer process): " + e);
            e.printStackTrace();
            System.exit(1);
        }
        // Wait to be killed. If the parent dies first, stdin reaches EOF: halt without closing.
        InputStream in = System.in;
        while (in.read() >= 0) {
            // ignore
        }
        Runtime.getRuntime().halt(3);
    }
}
