package io.tsdb.cli;

import io.tsdb.bench.util.ProcStats;
import io.tsdb.bench.util.Progress;
import io.tsdb.bench.write.BenchWriteSupport;
import io.tsdb.bench.write.CoreFigures;
import io.tsdb.bench.write.IngestChild;
import io.tsdb.bench.write.PromtoolWorkload;
import io.tsdb.core.Labels;
import io.tsdb.core.StorageImpl;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tsdb bench write}: the workload of {@code promtool tsdb bench write}, then two timed
 * restarts: of the store as a killed writer leaves it ({@code crash_replay_seconds}, the WAL
 * replayed without a shutdown checkpoint) and after a clean close ({@code replay_seconds}).
 *
 * <p>By default the ingest runs in a child JVM (same java, same JVM options, same class path)
 * which is killed with {@code destroyForcibly()} once it has flushed its WAL; this process then
 * opens what it left. {@code --in-process} instead ingests here and makes the crash image by
 * copying the store directory after the WAL flush and before close.
 */
@Command(
        name = "write",
        mixinStandardHelpOptions = true,
        description = {
            "The promtool tsdb bench write workload: label sets from a JSON-lines FILE, batches of 1000 series on"
                    + " parallel workers, rounds of 100 scrapes, ts += 30 s, value += 1000, one commit per scrape per batch.",
            "Prints samples/sec, then crash_replay_seconds (restart of a killed writer's store) and replay_seconds"
                    + " (restart after a clean close), bytes per sample, series and samples."
        })
public final class BenchWriteCommand implements Callable<Integer> {
    /** Marks a directory made by bench write: only then does a rerun delete anything in it. */
    static final String MARKER = ".tsdb-bench";

    static final String STORAGE = "storage";
    /** --in-process: the copy of the store taken before close, restarted first and deleted after. */
    static final String CRASH_IMAGE = "crash-image";

    static final String OWNS = "the store files (" + OwnedDir.STORE_FILES_TEXT + ") in " + STORAGE + "/ and "
            + CRASH_IMAGE + "/, then those directories if they are left empty";

    /** The --out directory, once claimed. */
    private OwnedDir owned;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--metrics",
            paramLabel = "M",
            description = "Number of series (distinct label sets) to read from FILE (default: ${DEFAULT-VALUE}).")
    int metrics = 10000;

    @Option(names = "--scrapes", paramLabel = "S", description = "Number of scrapes (default: ${DEFAULT-VALUE}).")
    int scrapes = 3000;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            description = "Output directory, new or empty or made by an earlier bench write"
                    + " (it holds a .tsdb-bench file); the store goes to DIR/storage. A rerun deletes only the store files there,"
                    + " nothing else (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("bench-out", "write");

    @Option(
            names = "--threads",
            paramLabel = "N",
            description = "Ingest worker threads (default: available processors = ${DEFAULT-VALUE}).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(
            names = "--in-process",
            description =
                    "Ingest in this JVM and make the crash image by copying the directory before close (no child process).")
    boolean inProcess;

    @Parameters(
            index = "0",
            paramLabel = "FILE",
            description = "JSON-lines file of label sets, e.g. from ../shared/bench/gen_series.py.")
    Path file;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (metrics < 1) {
            throw new CommandLine.ParameterException(cl, "--metrics must be >= 1, got " + metrics);
        }
        if (scrapes < 1) {
            throw new CommandLine.ParameterException(cl, "--scrapes must be >= 1, got " + scrapes);
        }
        if (threads < 1) {
            throw new CommandLine.ParameterException(cl, "--threads must be >= 1, got " + threads);
        }
        if (!Files.isRegularFile(file)) {
            throw new CommandLine.ParameterException(cl, "series file " + file + " does not exist (or is not a file)");
        }
        PrintWriter o = cl.getOut();
        owned = OwnedDir.claim(cl, "--out", out, MARKER, "tsdb bench write", OWNS);
        owned.deleteStore(STORAGE);
        owned.deleteStore(CRASH_IMAGE);
        Path storeDir = out.resolve(STORAGE);
        return inProcess ? runInProcess(o, storeDir) : runWithChild(o, storeDir);
    }

    private int runWithChild(PrintWriter o, Path storeDir) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib:jdwp")) {
                cmd.add(a);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(IngestChild.class.getName());
        cmd.add(storeDir.toString());
        cmd.add(file.toString());
        cmd.add(Integer.toString(metrics));
        cmd.add(Integer.toString(scrapes));
        cmd.add(Integer.toString(threads));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        if (System.console() != null && System.getenv("TSDB_PROGRESS") == null) {
            pb.environment().put("TSDB_PROGRESS", "1"); // the child's stdout is a pipe: show its progress bar anyway
        }
        Process child = pb.start();
        long ingested = -1;
        boolean ready = false;
        try (BufferedReader r =
                new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.equals(IngestChild.READY)) {
                    ready = true;
                    break;
                }
                if (line.startsWith("ingest_samples: ")) {
                    ingested = Long.parseLong(
                            line.substring("ingest_samples: ".length()).trim());
                }
                o.println(line);
                o.flush();
            }
            // the store is flushed: kill the writer as a crash would
            child.destroyForcibly();
            child.waitFor();
        } finally {
            if (child.isAlive()) {
                child.destroyForcibly();
            }
        }
        if (!ready) {
            throw new IOException("the writer process failed (exit code " + child.exitValue()
                    + ") before finishing its ingest; see its error above");
        }
        o.printf(Locale.ROOT, "crash_image_bytes: %d%n", ProcStats.dirBytes(storeDir));
        restarts(o, storeDir, null, ingested);
        return 0;
    }

    private int runInProcess(PrintWriter o, Path storeDir) throws Exception {
        List<Labels> series = PromtoolWorkload.readLabelSets(file, metrics);
        Path crashImage = out.resolve(CRASH_IMAGE);
        long ingested;
        StorageImpl store = StorageImpl.open(storeDir, BenchWriteSupport.storageOptions());
        try {
            Progress progress = new Progress("ingest", scrapes);
            PromtoolWorkload.Result r = PromtoolWorkload.ingest(store, series, scrapes, threads, progress);
            progress.done();
            long f0 = System.nanoTime();
            store.flush();
            double flushSecs = (System.nanoTime() - f0) / 1e9;
            java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
            try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
                BenchWriteSupport.printIngest(ps, series.size(), r, store, flushSecs);
            }
            o.print(buf.toString(StandardCharsets.UTF_8));
            ingested = r.samples();
            OwnedDir.copyStore(storeDir, crashImage);
            o.printf(Locale.ROOT, "crash_image_bytes: %d%n", ProcStats.dirBytes(crashImage));
        } catch (Throwable t) {
            store.close();
            throw t;
        }
        restarts(o, crashImage, store, ingested);
        owned.deleteStore(CRASH_IMAGE);
        return 0;
    }

    /**
     * Times the crash restart of {@code crashDir}, then (child mode) closes it cleanly and times a
     * reopen; in-process mode closes {@code liveStore} and times the reopen of the store dir.
     */
    private void restarts(PrintWriter o, Path crashDir, StorageImpl liveStore, long ingested) throws IOException {
        Path storeDir = out.resolve(STORAGE);
        if (liveStore != null) {
            long c0 = System.nanoTime();
            liveStore.close();
            o.printf(Locale.ROOT, "close_seconds: %.3f%n", (System.nanoTime() - c0) / 1e9);
        }
        long t0 = System.nanoTime();
        StorageImpl crashed = StorageImpl.open(crashDir, BenchWriteSupport.storageOptions());
        double crashSecs = (System.nanoTime() - t0) / 1e9;
        CoreFigures cf = CoreFigures.of(crashed);
        o.printf(Locale.ROOT, "crash_replay_seconds: %.3f%n", crashSecs);
        o.printf(Locale.ROOT, "crash_replay_samples_per_sec: %.1f%n", crashSecs > 0 ? cf.samples() / crashSecs : 0);
        var rs = crashed.stats().replay();
        o.printf(Locale.ROOT, "crash_replay_chunk_log_chunks: %d%n", rs.chunkLogChunks());
        o.printf(Locale.ROOT, "crash_replay_wal_samples_decoded_not_reencoded: %d%n", rs.coveredSamples());
        o.printf(Locale.ROOT, "crash_replay_wal_samples_reencoded: %d%n", rs.samples());
        o.printf(Locale.ROOT, "series: %d%n", cf.series());
        o.printf(Locale.ROOT, "samples: %d%n", cf.samples());
        o.printf(
                Locale.ROOT,
                "head_bytes_per_sample: %.3f%n",
                cf.samples() > 0 ? cf.chunkBytes() / (double) cf.samples() : 0);
        o.flush();
        checkNothingLost("crash restart", ingested, cf.samples());
        if (liveStore == null) {
            long c0 = System.nanoTime();
            crashed.close();
            o.printf(Locale.ROOT, "close_seconds: %.3f%n", (System.nanoTime() - c0) / 1e9);
        } else {
            crashed.close();
        }
        crashed = null; // let the first store's head be collected before the second open
        cf = null;
        long r0 = System.nanoTime();
        StorageImpl reopened = StorageImpl.open(storeDir, BenchWriteSupport.storageOptions());
        double replaySecs = (System.nanoTime() - r0) / 1e9;
        CoreFigures rf = CoreFigures.of(reopened);
        o.printf(Locale.ROOT, "replay_seconds: %.3f%n", replaySecs);
        o.flush();
        reopened.close();
        checkNothingLost("clean restart", ingested, rf.samples());
        o.printf(Locale.ROOT, "disk_bytes: %d%n", ProcStats.dirBytes(storeDir));
        o.printf(Locale.ROOT, "peak_rss_bytes: %d%n", ProcStats.peakRssBytes());
        o.flush();
    }

    private static void checkNothingLost(String what, long ingested, long found) throws IOException {
        if (ingested >= 0 && found != ingested) {
            throw new IOException(what + " recovered " + found + " samples but " + ingested + " were acknowledged");
        }
    }
}
