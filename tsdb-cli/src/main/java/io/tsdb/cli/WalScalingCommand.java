package io.tsdb.cli;

import io.tsdb.bench.util.Progress;
import io.tsdb.bench.wal.ScalingRun;
import io.tsdb.bench.wal.WalTarget;
import io.tsdb.cli.util.Charts;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tsdb bench wal-scaling}: the WAL scaling matrix (shards x threads x mode x record size),
 * one line per configuration, a CSV and a PNG chart.
 */
@Command(
        name = "wal-scaling",
        mixinStandardHelpOptions = true,
        description = {
            "Runs the WAL scaling matrix: shards {baseline,1,2,4,8,16} x threads {1,8,64} x mode {page-cache,fsync}"
                    + " x record size {64,256}; prints one line per configuration and writes wal-scaling.csv and wal-scaling.png.",
            "The baseline is the single-mutex WAL (one file, one write per record, fsync per record in fsync mode)."
        })
public final class WalScalingCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--quick",
            description = "Only baseline, 1 and 16 shards at 64 threads, fsync mode, 64-byte records (under a minute).")
    boolean quick;

    @Option(
            names = "--out",
            paramLabel = "DIR",
            description = "Where to write wal-scaling.csv and the chart (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("bench-out", "wal-scaling");

    @Option(
            names = "--data-dir",
            paramLabel = "DIR",
            description =
                    "Where the logs are written during the run (default: <out>/data, deleted after each configuration).")
    Path dataDir;

    @Option(
            names = "--seconds",
            paramLabel = "N",
            description = "Measured seconds per configuration (default: 2.5, or 8 with --quick).")
    Double seconds;

    @Option(
            names = "--warmup",
            paramLabel = "N",
            description = "Warm-up seconds per configuration before measuring (default: ${DEFAULT-VALUE}).")
    double warmup = 0.5;

    @Option(
            names = "--shards",
            split = ",",
            paramLabel = "LIST",
            description = "Override the shard counts, e.g. baseline,1,16.")
    List<String> shardsList;

    @Option(
            names = "--threads",
            split = ",",
            paramLabel = "LIST",
            description = "Override the thread counts, e.g. 1,8,64.")
    List<Integer> threadsList;

    @Option(names = "--modes", split = ",", paramLabel = "LIST", description = "Override the modes: page-cache, fsync.")
    List<String> modesList;

    @Option(
            names = "--sizes",
            split = ",",
            paramLabel = "LIST",
            description = "Override the record sizes in bytes, e.g. 64,256.")
    List<Integer> sizesList;

    @Override
    public Integer call() throws Exception {
        System.setProperty("java.awt.headless", "true");
        PrintWriter o = spec.commandLine().getOut();
        List<ScalingRun.Config> configs = configs();
        double secs = seconds != null ? seconds : (quick ? 8.0 : 2.5);
        if (secs <= 0 || Double.isNaN(secs)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--seconds must be > 0, got " + secs);
        }
        if (warmup < 0 || Double.isNaN(warmup)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--warmup must be >= 0, got " + warmup);
        }
        Files.createDirectories(out);
        Path data = dataDir != null ? dataDir : out.resolve("data");
        boolean dataExisted = Files.exists(data); // if so, not ours to remove: only the runs' own subdirectories go
        o.printf(
                "# wal-scaling: %d configurations x %.1f s (+%.1f s warm-up), %d CPUs, data in %s%n",
                configs.size(), secs, warmup, Runtime.getRuntime().availableProcessors(), data.toAbsolutePath());
        o.flush();
        Progress progress = new Progress("wal-scaling", configs.size());
        List<ScalingRun.Result> results = new ArrayList<>();
        int lastSize = -1;
        for (int i = 0; i < configs.size(); i++) {
            ScalingRun.Config c = configs.get(i);
            progress.update(
                    i,
                    c.shardsLabel() + " shards, " + c.threads() + " threads, " + c.mode().label + ", " + c.recordBytes()
                            + " B");
            if (c.recordBytes() != lastSize) {
                o.println("# record size " + c.recordBytes() + " bytes");
                lastSize = c.recordBytes();
            }
            ScalingRun.Result r = ScalingRun.run(c, data, warmup, secs);
            results.add(r);
            o.println(r.line());
            o.flush();
        }
        progress.done();
        if (!dataExisted) {
            try {
                Files.deleteIfExists(data);
            } catch (java.nio.file.DirectoryNotEmptyException ignored) {
                // something else was put there during the run: it stays
            }
        }
        Path csv = out.resolve("wal-scaling.csv");
        List<String> lines = new ArrayList<>();
        lines.add(ScalingRun.Result.csvHeader());
        for (ScalingRun.Result r : results) {
            lines.add(r.csv());
        }
        Files.write(csv, lines);
        List<Path> charts = writeCharts(results, out);
        o.println("# csv: " + csv.toAbsolutePath());
        for (Path p : charts) {
            o.println("# chart: " + p.toAbsolutePath());
        }
        summary(results, o);
        return 0;
    }

    List<ScalingRun.Config> configs() {
        List<String> shards = shardsList != null
                ? shardsList
                : quick ? List.of("baseline", "1", "16") : List.of("baseline", "1", "2", "4", "8", "16");
        List<Integer> threads = threadsList != null ? threadsList : quick ? List.of(64) : List.of(1, 8, 64);
        List<String> modes = modesList != null ? modesList : quick ? List.of("fsync") : List.of("page-cache", "fsync");
        List<Integer> sizes = sizesList != null ? sizesList : quick ? List.of(64) : List.of(64, 256);
        List<ScalingRun.Config> out = new ArrayList<>();
        for (int size : sizes) {
            if (size < 1 || size > (1 << 20)) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "record size must be 1..1048576 bytes, got " + size);
            }
            for (String m : modes) {
                WalTarget.Mode mode;
                try {
                    mode = WalTarget.Mode.parse(m);
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--modes: " + e.getMessage());
                }
                for (int t : threads) {
                    if (t < 1 || t > 4096) {
                        throw new CommandLine.ParameterException(
                                spec.commandLine(), "thread count must be 1..4096, got " + t);
                    }
                    for (String s : shards) {
                        out.add(new ScalingRun.Config(parseShards(s), t, mode, size));
                    }
                }
            }
        }
        return out;
    }

    private int parseShards(String s) {
        if (s.equals("baseline")) {
            return 0;
        }
        try {
            int n = Integer.parseInt(s);
            if (n < 1 || n > 1024) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--shards: '" + s + "' is neither 'baseline' nor a shard count in 1..1024");
        }
    }

    /** One PNG per record size: throughput and lock wait per append against shard count. */
    static List<Path> writeCharts(List<ScalingRun.Result> results, Path out) throws java.io.IOException {
        Map<Integer, List<ScalingRun.Result>> bySize = new LinkedHashMap<>();
        for (ScalingRun.Result r : results) {
            bySize.computeIfAbsent(r.config().recordBytes(), k -> new ArrayList<>())
                    .add(r);
        }
        List<Path> files = new ArrayList<>();
        boolean first = true;
        for (Map.Entry<Integer, List<ScalingRun.Result>> e : bySize.entrySet()) {
            List<ScalingRun.Result> rs = e.getValue();
            List<String> modes =
                    rs.stream().map(r -> r.config().mode().label).distinct().toList();
            List<CategoryChart> charts = new ArrayList<>();
            for (String mode : modes) {
                charts.add(chart(rs, mode, e.getKey(), true));
            }
            for (String mode : modes) {
                charts.add(chart(rs, mode, e.getKey(), false));
            }
            Path file = out.resolve(first ? "wal-scaling.png" : "wal-scaling-" + e.getKey() + "B.png");
            first = false;
            Charts.savePngGrid(charts, 2, modes.size(), file);
            files.add(file);
        }
        return files;
    }

    private static CategoryChart chart(List<ScalingRun.Result> rs, String mode, int size, boolean throughput) {
        CategoryChart c = new CategoryChartBuilder()
                .width(640)
                .height(400)
                .title((throughput ? "appends/s" : "lock wait ns/append") + " - " + mode + ", " + size + " B records")
                .xAxisTitle("shards")
                .yAxisTitle(throughput ? "appends/s" : "ns per append (log, floor 1)")
                .build();
        c.getStyler().setDefaultSeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
        c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNW);
        c.getStyler().setOverlapped(true);
        if (throughput) {
            c.getStyler().setYAxisMin(0.0);
        } else {
            c.getStyler().setYAxisLogarithmic(true);
        }
        Map<Integer, List<ScalingRun.Result>> byThreads = new LinkedHashMap<>();
        for (ScalingRun.Result r : rs) {
            if (r.config().mode().label.equals(mode)) {
                byThreads
                        .computeIfAbsent(r.config().threads(), k -> new ArrayList<>())
                        .add(r);
            }
        }
        for (Map.Entry<Integer, List<ScalingRun.Result>> e : byThreads.entrySet()) {
            List<String> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (ScalingRun.Result r : e.getValue()) {
                xs.add(r.config().shardsLabel());
                ys.add(throughput ? r.appendsPerSec() : Math.max(1.0, r.lockWaitNsPerAppend()));
            }
            c.addSeries(e.getKey() + " threads", xs, ys);
        }
        return c;
    }

    /** Ratios the issue asks for, where the matrix has them: 16 shards vs baseline, lock wait 1 vs 16. */
    private static void summary(List<ScalingRun.Result> results, PrintWriter o) {
        for (ScalingRun.Result r16 : results) {
            if (r16.config().shards() != 16) {
                continue;
            }
            for (ScalingRun.Result other : results) {
                ScalingRun.Config a = other.config();
                ScalingRun.Config b = r16.config();
                if (a.threads() != b.threads() || a.mode() != b.mode() || a.recordBytes() != b.recordBytes()) {
                    continue;
                }
                if (a.shards() == 0) {
                    o.printf(
                            java.util.Locale.ROOT,
                            "# ratio threads=%d mode=%s record_bytes=%d: 16 shards / baseline throughput = %.2fx%n",
                            b.threads(),
                            b.mode().label,
                            b.recordBytes(),
                            r16.appendsPerSec() / Math.max(1e-9, other.appendsPerSec()));
                } else if (a.shards() == 1) {
                    String ratio = r16.lockWaitNsPerAppend() < 1.0
                            ? String.format(
                                    java.util.Locale.ROOT,
                                    "n/a (%.1f ns vs %.1f ns: 16 shards below 1 ns)",
                                    other.lockWaitNsPerAppend(),
                                    r16.lockWaitNsPerAppend())
                            : String.format(
                                    java.util.Locale.ROOT,
                                    "%.2fx (%.1f ns vs %.1f ns)",
                                    other.lockWaitNsPerAppend() / r16.lockWaitNsPerAppend(),
                                    other.lockWaitNsPerAppend(),
                                    r16.lockWaitNsPerAppend());
                    o.printf(
                            java.util.Locale.ROOT,
                            "# ratio threads=%d mode=%s record_bytes=%d: lock wait per append 1 shard / 16 shards = %s%n",
                            b.threads(),
                            b.mode().label,
                            b.recordBytes(),
                            ratio);
                }
            }
        }
    }
}
