package io.tsdb.cli;

import io.tsdb.bench.util.ProcStats;
import io.tsdb.bench.util.Progress;
import io.tsdb.bench.write.CoreFigures;
import io.tsdb.cli.demo.AgentWorkload;
import io.tsdb.cli.query.QuerySupport;
import io.tsdb.cli.util.Charts;
import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tsdb demo}: the README's main job. Writes an agent-like workload (about 2,000 series of
 * HTTP counters, latency histograms, node and process metrics; 2 h of 15 s scrapes) through the
 * appender from several writer threads, closes, reopens (timed WAL replay / checkpoint load), runs
 * PromQL queries and prints a report.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Ingests a monitoring-agent workload (~2,000 series, 2 h of 15 s scrapes), restarts the store"
                    + " (timed replay), runs PromQL queries and prints a report: throughput, commit latency, WAL lock wait,"
                    + " replay time, bytes per sample, memory. Writes ingest-throughput.png into the directory."
        })
public final class DemoCommand implements Callable<Integer> {
    /** Marks a directory made by the demo: only then does a rerun delete anything in it. */
    static final String MARKER = ".tsdb-demo";
    /** The store, in its own directory under DIR (a store directory holds nothing but the store). */
    static final String STORE = "store";
    /** The copy of the store taken before close (a crash image), restarted first and deleted after. */
    static final String CRASH_IMAGE = "crash-image";

    static final String CHART = "ingest-throughput.png";
    /** What the demo may delete in its directory on a rerun, for its marker file. */
    static final String OWNS = "the store files (" + OwnedDir.STORE_FILES_TEXT + ") in " + STORE + "/ and in "
            + CRASH_IMAGE + "/ (then each directory if it is left empty), and " + CHART;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--dir",
            paramLabel = "DIR",
            description = {
                "Demo directory, the store in DIR/store (default: ${DEFAULT-VALUE}): new or empty,"
                        + " or one an earlier demo made (it holds a .tsdb-demo file); a rerun deletes only the store's files and the"
                        + " demo's outputs there, nothing else."
            })
    Path dir = Path.of("tsdb-data", "demo");

    @Option(
            names = "--instances",
            paramLabel = "N",
            description = "Scraped instances, ~115 series each (default: ${DEFAULT-VALUE}).")
    int instances = 17;

    @Option(names = "--hours", paramLabel = "H", description = "Hours of data to write (default: ${DEFAULT-VALUE}).")
    double hours = 2;

    @Option(
            names = "--interval",
            paramLabel = "SECONDS",
            description = "Scrape interval in seconds (default: ${DEFAULT-VALUE}).")
    int interval = 15;

    @Option(names = "--writers", paramLabel = "N", description = "Writer threads (default: ${DEFAULT-VALUE}).")
    int writers = 4;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (instances < 1 || instances > 100_000) {
            throw new CommandLine.ParameterException(cl, "--instances must be 1..100000, got " + instances);
        }
        if (!(hours > 0) || hours > 24 * 365) {
            throw new CommandLine.ParameterException(cl, "--hours must be > 0 (and at most a year), got " + hours);
        }
        if (interval < 1) {
            throw new CommandLine.ParameterException(cl, "--interval must be >= 1 second, got " + interval);
        }
        if (writers < 1 || writers > 1024) {
            throw new CommandLine.ParameterException(cl, "--writers must be 1..1024, got " + writers);
        }
        PrintWriter o = cl.getOut();
        // the store is DIR/store; the demo deletes only store files and its own outputs in DIR
        OwnedDir owned = OwnedDir.claim(cl, "--dir", dir, MARKER, "tsdb demo", OWNS);
        owned.deleteStore(STORE);
        Path storeDir = dir.resolve(STORE);
        owned.deleteStore(CRASH_IMAGE);
        owned.delete(CHART);

        List<AgentWorkload.Instance> targets = AgentWorkload.instances(instances, 42);
        int seriesCount = targets.stream().mapToInt(t -> t.series.size()).sum();
        int scrapes = (int) Math.round(hours * 3600 / interval);
        long stepMs = interval * 1000L;
        long endMs = System.currentTimeMillis() / stepMs * stepMs;
        long startMs = endMs - (scrapes - 1) * stepMs;
        long expected = (long) seriesCount * scrapes;
        o.printf(
                Locale.ROOT,
                "tsdb demo: %d instances, %d series, %d scrapes every %d s (%.1f h), %d writer threads -> %,d samples%n",
                instances,
                seriesCount,
                scrapes,
                interval,
                hours,
                writers,
                expected);
        o.printf("store: %s%n%n", storeDir.toAbsolutePath());
        o.flush();

        StorageOptions options = StorageOptions.defaults();
        final StorageImpl writeStore = StorageImpl.open(storeDir, options);
        StorageImpl store = writeStore;
        AtomicLong samples = new AtomicLong();
        List<Histogram> commitHists = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        Progress progress = new Progress("ingest", expected);
        List<Double> chartT = new ArrayList<>();
        List<Double> chartRate = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int w = 0; w < writers; w++) {
            List<AgentWorkload.Instance> mine = new ArrayList<>();
            for (int i = w; i < targets.size(); i += writers) {
                mine.add(targets.get(i));
            }
            Histogram h = new Histogram(60_000_000_000L, 2);
            commitHists.add(h);
            Thread t = new Thread(
                    () -> {
                        try {
                            long[][] refs = new long[mine.size()][];
                            for (int i = 0; i < mine.size(); i++) {
                                refs[i] = new long[mine.get(i).series.size()];
                            }
                            for (int k = 0; k < scrapes; k++) {
                                long ts = startMs + k * stepMs;
                                for (int i = 0; i < mine.size(); i++) {
                                    AgentWorkload.Instance inst = mine.get(i);
                                    double[] v = inst.next(interval);
                                    var app = writeStore.appender();
                                    long[] r = refs[i];
                                    for (int s = 0; s < r.length; s++) {
                                        r[s] = app.append(r[s], inst.series.get(s), ts, v[s]);
                                    }
                                    long c0 = System.nanoTime();
                                    app.commit();
                                    h.recordValue(Math.min(System.nanoTime() - c0, 60_000_000_000L));
                                    samples.addAndGet(r.length);
                                }
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    },
                    "demo-writer-" + w);
            threads.add(t);
            t.start();
        }
        long last = 0;
        long lastT = t0;
        while (threads.stream().anyMatch(Thread::isAlive)) {
            Thread.sleep(20);
            long now = System.nanoTime();
            long s = samples.get();
            if (now - lastT >= 50_000_000L) { // a point every 50 ms: the demo ingest lasts about a second
                chartT.add((now - t0) / 1e9);
                chartRate.add((s - last) / ((now - lastT) / 1e9));
                last = s;
                lastT = now;
            }
            progress.update(s, String.format(Locale.ROOT, "%,d samples", s));
        }
        for (Thread t : threads) {
            t.join();
        }
        progress.done();
        if (failure.get() != null) {
            store.close();
            throw new RuntimeException("ingest failed: " + failure.get(), failure.get());
        }
        double ingestSecs = (System.nanoTime() - t0) / 1e9;
        Histogram commits = new Histogram(60_000_000_000L, 2);
        commitHists.forEach(commits::add);
        CoreFigures before = CoreFigures.of(store);

        // a crash image: the directory as a kill -9 right after this flush would leave it (no
        // shutdown checkpoint), restarted first; then the clean close and its restart
        store.flush();
        Path crashDir = dir.resolve(CRASH_IMAGE);
        owned.deleteStore(CRASH_IMAGE);
        OwnedDir.copyStore(storeDir, crashDir);
        long c0 = System.nanoTime();
        store.close();
        double closeSecs = (System.nanoTime() - c0) / 1e9;
        long k0 = System.nanoTime();
        StorageImpl crashed = StorageImpl.open(crashDir, options);
        double crashSecs = (System.nanoTime() - k0) / 1e9;
        CoreFigures afterCrash = CoreFigures.of(crashed);
        var crashReplay = crashed.stats().replay();
        crashed.close();
        crashed = null;
        owned.deleteStore(CRASH_IMAGE);
        long r0 = System.nanoTime();
        store = StorageImpl.open(storeDir, options);
        double replaySecs = (System.nanoTime() - r0) / 1e9;
        CoreFigures after = CoreFigures.of(store);
        try {
            o.println("== ingest");
            o.printf(
                    Locale.ROOT,
                    "  samples written     %,d in %.2f s = %,.0f samples/s%n",
                    samples.get(),
                    ingestSecs,
                    samples.get() / ingestSecs);
            o.printf(
                    Locale.ROOT,
                    "  commit latency      P50 %.1f us, P99 %.1f us, max %.1f us (%,d commits of ~%d samples)%n",
                    commits.getValueAtPercentile(50) / 1e3,
                    commits.getValueAtPercentile(99) / 1e3,
                    commits.getMaxValue() / 1e3,
                    commits.getTotalCount(),
                    seriesCount / Math.max(1, instances));
            o.printf(Locale.ROOT, "  WAL lock wait       %.1f ns per append%n", before.lockWaitNsPerAppend());
            o.printf(
                    Locale.ROOT,
                    "  WAL bytes/sample    %.2f (%s)%n",
                    before.walBytes() / (double) Math.max(1, samples.get()),
                    ProcStats.human(before.walBytes()));
            o.printf(
                    Locale.ROOT,
                    "  head bytes/sample   %.2f (%s of chunks)%n",
                    before.chunkBytes() / (double) Math.max(1, before.samples()),
                    ProcStats.human(before.chunkBytes()));
            o.println("== restart after a crash (a copy of the directory taken after the last flush, before close)");
            o.printf(
                    Locale.ROOT,
                    "  open (WAL replay)   %.3f s = %,.0f samples/s; %,d series, %,d samples back%n",
                    crashSecs,
                    afterCrash.samples() / Math.max(1e-9, crashSecs),
                    afterCrash.series(),
                    afterCrash.samples());
            o.printf(
                    Locale.ROOT,
                    "  head chunk log      %,d chunks attached; %,d WAL samples decoded, not re-compressed%n",
                    crashReplay.chunkLogChunks(),
                    crashReplay.coveredSamples());
            if (afterCrash.samples() != samples.get()) {
                o.printf(
                        Locale.ROOT,
                        "  WARNING: %,d samples written but %,d found after the crash restart%n",
                        samples.get(),
                        afterCrash.samples());
            }
            o.println("== restart after a clean close");
            o.printf(Locale.ROOT, "  close (checkpoint)  %.3f s%n", closeSecs);
            o.printf(
                    Locale.ROOT,
                    "  open (checkpoint)   %.3f s = %,.0f samples/s; %,d series, %,d samples back%n",
                    replaySecs,
                    after.samples() / Math.max(1e-9, replaySecs),
                    after.series(),
                    after.samples());
            if (after.samples() != samples.get()) {
                o.printf(
                        Locale.ROOT,
                        "  WARNING: %,d samples written but %,d found after restart%n",
                        samples.get(),
                        after.samples());
            }
            o.printf(Locale.ROOT, "  disk                %s%n", ProcStats.human(OwnedDir.storeBytes(storeDir)));
            System.gc();
            o.println("== memory");
            o.printf(
                    Locale.ROOT,
                    "  heap used           %s (after GC), max heap %s%n",
                    ProcStats.human(ProcStats.heapUsedBytes()),
                    ProcStats.human(Runtime.getRuntime().maxMemory()));
            o.printf(
                    Locale.ROOT,
                    "  RSS                 %s now, %s peak (VmHWM)%n",
                    ProcStats.human(ProcStats.rssBytes()),
                    ProcStats.human(ProcStats.peakRssBytes()));
            o.println("== queries (at the last scrape, " + Instant.ofEpochMilli(endMs) + ")");
            o.flush();
            QuerySupport.demoQueries(store, Instant.ofEpochMilli(endMs), Duration.ofSeconds(interval), o);
        } finally {
            store.close();
        }
        Path chart = dir.resolve(CHART);
        XYChart c = new XYChartBuilder()
                .width(800)
                .height(400)
                .title("tsdb demo: ingest throughput")
                .xAxisTitle("seconds")
                .yAxisTitle("samples/s")
                .build();
        c.getStyler().setLegendVisible(false);
        c.getStyler().setYAxisMin(0.0);
        if (chartT.isEmpty()) {
            chartT.add(ingestSecs);
            chartRate.add(samples.get() / ingestSecs);
        }
        c.addSeries("samples/s", chartT, chartRate);
        Charts.savePng(c, chart);
        o.println();
        o.println("chart: " + chart.toAbsolutePath());
        o.flush();
        return 0;
    }
}
