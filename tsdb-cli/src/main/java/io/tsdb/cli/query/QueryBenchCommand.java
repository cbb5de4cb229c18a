package io.tsdb.cli.query;

import io.tsdb.core.Appender;
import io.tsdb.core.Labels;
import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageOptions;
import io.tsdb.query.promql.PromqlEngine;
import io.tsdb.query.promql.QueryResult;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tsdb bench query}: PromQL latency over a deterministic counter data set, the same one
 * {@code bench/compare-query.sh} loads into Prometheus (through {@code --openmetrics} and
 * {@code promtool tsdb create-blocks-from openmetrics}).
 *
 * <p>Data: metric {@code m}, {@code --series} series with labels {@code a} ({@code a0..a9}, series
 * {@code i} has {@code a = i % 10}), {@code b} ({@code b0..b99}, {@code b = (i / 10) % 100}) and
 * {@code instance} ({@code i-<i>}, unique); one sample per series every {@code --step-seconds}
 * for {@code --hours}, the last at {@code --end}; each series is a counter starting at a random
 * integer in [0, 1000) and growing by a random integer in [0, 10] per scrape (one
 * {@link SplittableRandom} seeded with {@code --seed}, drawn in a fixed order, so the data set is
 * the same on every run). The samples are written through {@link StorageImpl#appender()}, one
 * commit per scrape.
 *
 * <p>Then each query is evaluated as an instant query at {@code --end} + {@code --eval-offset-seconds}
 * (default 7 s after the last scrape, off the 15 s grid; see that option) and as a range query over
 * the {@code --range-minutes} before that time at {@code --range-step-seconds}: {@code --warmup} untimed runs,
 * then {@code --iterations} timed ones. Per query and kind it prints
 * <pre>
 * query-bench engine=tsdb kind=instant query="..." p50_ms=.. p99_ms=.. series=N
 * query-bench engine=tsdb+json kind=instant query="..." p50_ms=.. p99_ms=.. series=N
 * query-check engine=tsdb kind=instant query="..." series=N points=P sum=S
 * </pre>
 * {@code engine=tsdb} times the library call alone; {@code engine=tsdb+json} adds encoding the
 * result as the body of Prometheus's HTTP API response (what Prometheus's own figure includes,
 * minus the HTTP round trip). {@code query-check} describes the result of the last run (number of
 * series, of samples or points, and the sum of all values) for comparison with Prometheus's.
 * Percentiles are nearest-rank over the timed runs. In the query strings of these lines {@code "}
 * and {@code \} are escaped with a backslash.
 */
@Command(
        name = "query",
        mixinStandardHelpOptions = true,
        description = {
            "PromQL latency over a deterministic data set: metric m, labels a (10 values), b (100 values),"
                    + " instance (unique); counters sampled every --step-seconds for --hours, ending at --end.",
            "Each query runs as an instant query at --end + --eval-offset-seconds and as a range query over the"
                    + " --range-minutes before that; prints p50/p99 per query and kind, and a query-check line"
                    + " (series, points, sum of values).",
            "--openmetrics FILE also writes the data set for `promtool tsdb create-blocks-from openmetrics`"
                    + " (see bench/compare-query.sh)."
        })
public final class QueryBenchCommand implements Callable<Integer> {

    /** The default queries: the aggregation of a rate, a regex selector (~11% of series), a count over a regex alternation. */
    public static final List<String> DEFAULT_QUERIES =
            List.of("sum by (a) (rate(m[5m]))", "m{b=~\"b1.*\"}", "count(m{instance=~\"i-1.*|i-2.*\"})");

    /**
     * Default time of the last scrape: 2023-11-14T21:59:45Z, 15 s before a multiple of 2 h, so that 2 h of 15 s
     * scrapes start on a 2 h boundary and {@code promtool tsdb create-blocks-from openmetrics} (which cuts blocks at
     * multiples of 2 h) writes them into a single block.
     */
    public static final long DEFAULT_END_SECONDS = 1_699_999_185L;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--series", paramLabel = "N", description = "Number of series (default: ${DEFAULT-VALUE}).")
    int series = 10_000;

    @Option(names = "--hours", paramLabel = "H", description = "Hours of data (default: ${DEFAULT-VALUE}).")
    int hours = 2;

    @Option(
            names = "--step-seconds",
            paramLabel = "S",
            description = "Scrape interval in seconds (default: ${DEFAULT-VALUE}).")
    int stepSeconds = 15;

    @Option(
            names = "--iterations",
            paramLabel = "N",
            description = "Timed runs per query and kind (default: ${DEFAULT-VALUE}).")
    int iterations = 20;

    @Option(
            names = "--warmup",
            paramLabel = "N",
            description = "Untimed runs per query and kind before the timed ones (default: ${DEFAULT-VALUE}).")
    int warmup = 5;

    @Option(
            names = "--dir",
            paramLabel = "DIR",
            description =
                    "Store directory; must not exist or be empty (default: a temporary directory, deleted at the end).")
    Path dir;

    @Option(
            names = "--openmetrics",
            paramLabel = "FILE",
            description = "Also write the data set to FILE as OpenMetrics text (overwritten).")
    Path openMetrics;

    @Option(
            names = "--end",
            paramLabel = "T",
            description = "Timestamp of the last scrape, Unix seconds (default: ${DEFAULT-VALUE}).")
    long endSeconds = DEFAULT_END_SECONDS;

    @Option(
            names = "--eval-offset-seconds",
            paramLabel = "S",
            description = {
                "Queries are evaluated at --end + S (range queries end there) (default: ${DEFAULT-VALUE}).",
                "Off the scrape grid, no sample lies on a window boundary: Prometheus 2.x's range windows include their"
                        + " start, Prometheus 3.x's (and this engine's) do not, so with 0 rate() over windows that start"
                        + " on a sample differs from Prometheus 2.42's by design."
            })
    int evalOffsetSeconds = 7;

    @Option(
            names = "--range-minutes",
            paramLabel = "M",
            description = "Range queries cover the last M minutes (default: ${DEFAULT-VALUE}).")
    int rangeMinutes = 60;

    @Option(
            names = "--range-step-seconds",
            paramLabel = "S",
            description = "Step of the range queries (default: ${DEFAULT-VALUE}).")
    int rangeStepSeconds = 60;

    @Option(
            names = "--seed",
            paramLabel = "N",
            description = "Random seed of the data set (default: ${DEFAULT-VALUE}).")
    long seed = 42;

    @Option(
            names = "--query",
            paramLabel = "EXPR",
            description = "A query to time (repeatable; default: the three of the issue).")
    List<String> queries;

    @Override
    public Integer call() throws Exception {
        validate();
        PrintWriter out = spec.commandLine().getOut();
        List<String> qs = queries == null || queries.isEmpty() ? DEFAULT_QUERIES : queries;
        boolean temporary = dir == null;
        Path storeDir = temporary ? Files.createTempDirectory("tsdb-query-bench") : dir;
        if (!temporary) {
            checkEmptyOrMissing(storeDir);
        }
        int scrapes = hours * 3600 / stepSeconds;
        long endMs = Math.multiplyExact(endSeconds, 1000L);
        out.printf(
                Locale.ROOT,
                "query-bench-data series=%d scrapes=%d samples=%d step_s=%d first=%d end=%d dir=%s%s%n",
                series,
                scrapes,
                (long) series * scrapes,
                stepSeconds,
                endSeconds - (long) (scrapes - 1) * stepSeconds,
                endSeconds,
                storeDir,
                openMetrics == null ? "" : " openmetrics=" + openMetrics);
        out.flush();
        try (StorageImpl store = StorageImpl.open(storeDir, StorageOptions.defaults())) {
            long t0 = System.nanoTime();
            generate(store, scrapes, endMs);
            double secs = (System.nanoTime() - t0) / 1e9;
            out.printf(
                    Locale.ROOT,
                    "query-bench-load seconds=%.2f samples_per_sec=%.0f%n",
                    secs,
                    series * (double) scrapes / secs);
            out.flush();

            PromqlEngine engine = new PromqlEngine(store);
            Instant end = Instant.ofEpochMilli(endMs).plusSeconds(evalOffsetSeconds);
            Instant start = end.minus(Duration.ofMinutes(rangeMinutes));
            Duration step = Duration.ofSeconds(rangeStepSeconds);
            out.printf(
                    Locale.ROOT,
                    "query-bench-config instant_time=%d range_start=%d range_end=%d range_step_s=%d"
                            + " warmup=%d iterations=%d (engine=tsdb: in-process library call; engine=tsdb+json: plus encoding"
                            + " the result as Prometheus's API JSON; no HTTP)%n",
                    end.getEpochSecond(),
                    start.getEpochSecond(),
                    end.getEpochSecond(),
                    rangeStepSeconds,
                    warmup,
                    iterations);
            for (String q : qs) {
                bench(out, "instant", q, () -> engine.instantQuery(q, end));
                bench(out, "range", q, () -> engine.rangeQuery(q, start, end, step));
            }
        } finally {
            if (temporary) {
                deleteTree(storeDir);
            }
        }
        return 0;
    }

    private void validate() {
        CommandLine cl = spec.commandLine();
        require(cl, series >= 1 && series <= 10_000_000, "--series must be in [1, 10000000], got " + series);
        require(cl, hours >= 1 && hours <= 24 * 14, "--hours must be in [1, 336], got " + hours);
        require(cl, stepSeconds >= 1 && stepSeconds <= 3600, "--step-seconds must be in [1, 3600], got " + stepSeconds);
        require(cl, hours * 3600 / stepSeconds >= 1, "--hours / --step-seconds leave no scrape");
        require(cl, iterations >= 1 && iterations <= 100_000, "--iterations must be in [1, 100000], got " + iterations);
        require(cl, warmup >= 0 && warmup <= 100_000, "--warmup must be in [0, 100000], got " + warmup);
        require(
                cl,
                evalOffsetSeconds >= 0 && evalOffsetSeconds <= 3600,
                "--eval-offset-seconds must be in [0, 3600], got " + evalOffsetSeconds);
        require(cl, rangeMinutes >= 1, "--range-minutes must be >= 1, got " + rangeMinutes);
        require(cl, rangeStepSeconds >= 1, "--range-step-seconds must be >= 1, got " + rangeStepSeconds);
        require(
                cl,
                rangeMinutes * 60L / rangeStepSeconds < PromqlEngine.MAX_RANGE_POINTS,
                "--range-minutes / --range-step-seconds exceed " + PromqlEngine.MAX_RANGE_POINTS + " points");
        require(
                cl,
                endSeconds > (long) hours * 3600 && endSeconds < 9_000_000_000_000L,
                "--end must be a plausible Unix time in seconds, got " + endSeconds);
    }

    private static void require(CommandLine cl, boolean ok, String message) {
        if (!ok) {
            throw new CommandLine.ParameterException(cl, message);
        }
    }

    private static void checkEmptyOrMissing(Path d) throws IOException {
        if (!Files.exists(d)) {
            return;
        }
        if (!Files.isDirectory(d)) {
            throw new IOException("--dir " + d + " exists and is not a directory");
        }
        try (Stream<Path> s = Files.list(d)) {
            if (s.findAny().isPresent()) {
                throw new IOException(
                        "--dir " + d + " is not empty; the benchmark needs a fresh store (remove it or name another)");
            }
        }
    }

    /** Series {@code i}'s labels, in OpenMetrics notation (without the metric name). */
    static String labelText(int i) {
        return "{a=\"a" + (i % 10) + "\",b=\"b" + ((i / 10) % 100) + "\",instance=\"i-" + i + "\"}";
    }

    static Labels labels(int i) {
        return Labels.of(
                Labels.METRIC_NAME, "m", "a", "a" + (i % 10), "b", "b" + ((i / 10) % 100), "instance", "i-" + i);
    }

    /** Writes the data set into {@code store} (one commit per scrape) and, if asked, to the OpenMetrics file. */
    private void generate(StorageImpl store, int scrapes, long endMs) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        long[] value = new long[series];
        long[] refs = new long[series];
        Labels[] labels = new Labels[series];
        String[] prefix = new String[series];
        for (int i = 0; i < series; i++) {
            value[i] = rnd.nextInt(1000);
            labels[i] = labels(i);
            prefix[i] = "m" + labelText(i) + " ";
        }
        BufferedWriter om = null;
        if (openMetrics != null) {
            Path parent = openMetrics.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            om = Files.newBufferedWriter(openMetrics, StandardCharsets.UTF_8);
            om.write("# HELP m A synthetic counter of the tsdb query benchmark.\n");
            om.write("# TYPE m unknown\n");
        }
        try {
            Appender app = store.appender();
            long stepMs = stepSeconds * 1000L;
            StringBuilder line = new StringBuilder(128);
            for (int k = 0; k < scrapes; k++) {
                long t = endMs - (long) (scrapes - 1 - k) * stepMs;
                String ts = Long.toString(t / 1000);
                for (int i = 0; i < series; i++) {
                    if (k > 0) {
                        value[i] += rnd.nextInt(11);
                    }
                    refs[i] = app.append(refs[i], refs[i] == 0 ? labels[i] : null, t, value[i]);
                    if (om != null) {
                        line.setLength(0);
                        line.append(prefix[i])
                                .append(value[i])
                                .append(' ')
                                .append(ts)
                                .append('\n');
                        om.append(line);
                    }
                }
                app.commit();
            }
            if (om != null) {
                om.write("# EOF\n");
            }
        } finally {
            if (om != null) {
                om.close();
            }
        }
    }

    @FunctionalInterface
    private interface Query {
        QueryResult run();
    }

    private void bench(PrintWriter out, String kind, String q, Query query) {
        for (int i = 0; i < warmup; i++) {
            QueryResult r = query.run();
            if (toPrometheusJson(r).length() == 0) {
                throw new IllegalStateException("empty JSON for " + q);
            }
        }
        long[] evalNs = new long[iterations];
        long[] withJsonNs = new long[iterations];
        QueryResult last = null;
        long jsonChars = 0;
        for (int i = 0; i < iterations; i++) {
            long t0 = System.nanoTime();
            QueryResult r = query.run();
            long t1 = System.nanoTime();
            jsonChars = toPrometheusJson(r).length();
            long t2 = System.nanoTime();
            evalNs[i] = t1 - t0;
            withJsonNs[i] = t2 - t0;
            last = r;
        }
        Check c = check(last);
        String qq = quote(q);
        out.printf(
                Locale.ROOT,
                "query-bench engine=tsdb kind=%s query=%s p50_ms=%.3f p99_ms=%.3f series=%d%n",
                kind,
                qq,
                percentile(evalNs, 50) / 1e6,
                percentile(evalNs, 99) / 1e6,
                c.series);
        out.printf(
                Locale.ROOT,
                "query-bench engine=tsdb+json kind=%s query=%s p50_ms=%.3f p99_ms=%.3f series=%d json_bytes=%d%n",
                kind,
                qq,
                percentile(withJsonNs, 50) / 1e6,
                percentile(withJsonNs, 99) / 1e6,
                c.series,
                jsonChars);
        out.printf(
                Locale.ROOT,
                "query-check engine=tsdb kind=%s query=%s series=%d points=%d sum=%s%n",
                kind,
                qq,
                c.series,
                c.points,
                Double.toString(c.sum));
        for (String w : last.warnings()) {
            out.printf(Locale.ROOT, "query-warning engine=tsdb kind=%s query=%s warning=%s%n", kind, qq, quote(w));
        }
        out.flush();
    }

    /** Nearest-rank percentile of the values (sorted copy). */
    static long percentile(long[] values, double p) {
        long[] s = values.clone();
        Arrays.sort(s);
        int rank = (int) Math.ceil(p / 100.0 * s.length);
        return s[Math.max(0, Math.min(s.length - 1, rank - 1))];
    }

    record Check(int series, long points, double sum) {}

    /** Series, samples/points and the sum of all values of a result. */
    static Check check(QueryResult r) {
        QueryResult.Value v = r.value();
        if (v instanceof QueryResult.Vector vec) {
            double sum = 0;
            for (QueryResult.VectorSample s : vec.samples()) {
                sum += s.value();
            }
            return new Check(vec.samples().size(), vec.samples().size(), sum);
        } else if (v instanceof QueryResult.Matrix m) {
            double sum = 0;
            long points = 0;
            for (QueryResult.SeriesPoints s : m.series()) {
                for (QueryResult.Point p : s.points()) {
                    sum += p.value();
                    points++;
                }
            }
            return new Check(m.series().size(), points, sum);
        } else if (v instanceof QueryResult.Scalar s) {
            return new Check(1, 1, s.value());
        }
        return new Check(1, 1, 0);
    }

    /** {@code "q"} with {@code "} and {@code \} escaped. */
    static String quote(String q) {
        return '"' + q.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    /** The body Prometheus's {@code /api/v1/query[_range]} would return for this result. */
    static String toPrometheusJson(QueryResult r) {
        StringBuilder sb = new StringBuilder(4096);
        sb.append("{\"status\":\"success\",\"data\":{\"resultType\":\"");
        QueryResult.Value v = r.value();
        if (v instanceof QueryResult.Vector vec) {
            sb.append("vector\",\"result\":[");
            boolean first = true;
            for (QueryResult.VectorSample s : vec.samples()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                sb.append("{\"metric\":");
                metric(sb, s.labels());
                sb.append(",\"value\":");
                point(sb, s.timestamp(), s.value());
                sb.append('}');
            }
            sb.append(']');
        } else if (v instanceof QueryResult.Matrix m) {
            sb.append("matrix\",\"result\":[");
            boolean first = true;
            for (QueryResult.SeriesPoints s : m.series()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                sb.append("{\"metric\":");
                metric(sb, s.labels());
                sb.append(",\"values\":[");
                boolean firstPoint = true;
                for (QueryResult.Point p : s.points()) {
                    if (!firstPoint) {
                        sb.append(',');
                    }
                    firstPoint = false;
                    point(sb, p.timestamp(), p.value());
                }
                sb.append("]}");
            }
            sb.append(']');
        } else if (v instanceof QueryResult.Scalar s) {
            sb.append("scalar\",\"result\":");
            point(sb, s.timestamp(), s.value());
        } else if (v instanceof QueryResult.StringValue s) {
            sb.append("string\",\"result\":[");
            seconds(sb, s.timestamp());
            sb.append(',');
            jsonString(sb, s.value());
            sb.append(']');
        }
        sb.append('}');
        if (!r.warnings().isEmpty()) {
            sb.append(",\"warnings\":[");
            for (int i = 0; i < r.warnings().size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                jsonString(sb, r.warnings().get(i));
            }
            sb.append(']');
        }
        sb.append('}');
        return sb.toString();
    }

    private static void metric(StringBuilder sb, Labels labels) {
        sb.append('{');
        for (int i = 0; i < labels.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            jsonString(sb, labels.name(i));
            sb.append(':');
            jsonString(sb, labels.value(i));
        }
        sb.append('}');
    }

    private static void point(StringBuilder sb, long millis, double value) {
        sb.append('[');
        seconds(sb, millis);
        sb.append(",\"").append(QueryResult.formatValue(value)).append("\"]");
    }

    private static void seconds(StringBuilder sb, long millis) {
        sb.append(Math.floorDiv(millis, 1000L));
        long ms = Math.floorMod(millis, 1000L);
        if (ms != 0) {
            sb.append('.');
            if (ms < 100) {
                sb.append('0');
            }
            if (ms < 10) {
                sb.append('0');
            }
            sb.append(ms);
        }
    }

    private static void jsonString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.forEach(paths::add);
        }
        paths.sort(Comparator.reverseOrder());
        for (Path p : paths) {
            Files.deleteIfExists(p);
        }
    }
}
