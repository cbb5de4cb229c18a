package io.tsdb.cli.promqltest;

import io.tsdb.core.Labels;
import io.tsdb.core.Sample;
import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageOptions;
import io.tsdb.core.TimeSeries;
import io.tsdb.query.Matcher;
import io.tsdb.query.MemorySeriesSource;
import io.tsdb.query.SeriesSource;
import io.tsdb.query.StorageSeriesSource;
import io.tsdb.query.promql.Expr;
import io.tsdb.query.promql.Parser;
import io.tsdb.query.promql.PromqlEngine;
import io.tsdb.query.promql.QueryResult;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Runs Prometheus promqltest scripts ({@code load}, {@code clear}, {@code eval instant|range} with expected results
 * and {@code expect} lines) against {@link PromqlEngine}. Each script starts with a fresh store ({@link StorageImpl}
 * in a temporary directory by default), re-created on {@code clear}. Results are compared the way promqltest does:
 * floats with a relative tolerance of 1e-6 (NaN equals NaN), exact label sets, order only when asked. Evals that
 * need native histograms are skipped and reported by name.
 */
public final class PromqlTestRunner {
    /** Where loaded series are stored. */
    public enum Backend {
        /** A fresh {@link StorageImpl} in a temporary directory (the default). */
        STORAGE,
        /** An in-memory {@link MemorySeriesSource} (for unit tests of the engine alone). */
        MEMORY
    }

    /**
     * How one eval ended: {@code PASSED} (the result matched), {@code FAILED} (the result, or the expected error,
     * did not match), {@code SKIPPED} (not run, e.g. it needs native histograms).
     */
    public enum Status {
        PASSED,
        FAILED,
        SKIPPED
    }

    /**
     * The outcome of one eval.
     *
     * @param file   the script
     * @param line   1-based line of the eval (0 for the whole file)
     * @param expr   the expression
     * @param status how it ended
     * @param reason why it failed or was skipped; null when it passed
     */
    public record Outcome(Path file, int line, String expr, Status status, String reason) {
        @Override
        public String toString() {
            return file.getFileName() + ":" + line + ": " + expr + (reason == null ? "" : " -- " + reason);
        }
    }

    /**
     * Totals over one or more files.
     *
     * @param outcomes every eval's outcome, in script order
     */
    public record Result(List<Outcome> outcomes) {
        /**
         * @param outcomes every eval's outcome, copied
         * @throws NullPointerException if {@code outcomes} is null or holds a null
         */
        public Result {
            outcomes = List.copyOf(outcomes);
        }

        /** {@return the number of evals that passed} */
        public int passed() {
            return count(Status.PASSED);
        }

        /** {@return the number of evals that failed} */
        public int failed() {
            return count(Status.FAILED);
        }

        /** {@return the number of evals skipped} */
        public int skipped() {
            return count(Status.SKIPPED);
        }

        private int count(Status s) {
            return (int) outcomes.stream().filter(o -> o.status() == s).count();
        }

        /** {@return the failed outcomes} */
        public List<Outcome> failures() {
            return outcomes.stream().filter(o -> o.status() == Status.FAILED).toList();
        }

        /** {@return the skipped outcomes} */
        public List<Outcome> skips() {
            return outcomes.stream().filter(o -> o.status() == Status.SKIPPED).toList();
        }

        /** {@return {@code promql evals: N passed, N failed, N skipped}} */
        public String summary() {
            return "promql evals: " + passed() + " passed, " + failed() + " failed, " + skipped() + " skipped";
        }
    }

    private final Backend backend;
    private final PrintStream out;
    private final boolean verbose;
    private final PromqlEngine.Options options;

    /** A runner on {@link Backend#STORAGE} that prints to {@code System.out}. */
    public PromqlTestRunner() {
        this(Backend.STORAGE, System.out, false);
    }

    /**
     * @param backend where loaded series are stored
     * @param out where per-file and total lines (and each failure) are printed; null prints nothing
     * @param verbose also print each skipped eval
     * @throws NullPointerException if {@code backend} is null
     */
    public PromqlTestRunner(Backend backend, PrintStream out, boolean verbose) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.out = out;
        this.verbose = verbose;
        this.options = PromqlEngine.Options.defaults().withTimeout(Duration.ofSeconds(60));
    }

    /**
     * All {@code *.test} files of a directory, sorted by name.
     *
     * @param dir the directory
     * @return the files
     * @throws IOException if the directory cannot be listed
     */
    public static List<Path> scriptsIn(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".test"))
                    .sorted()
                    .toList();
        }
    }

    /**
     * Runs the files in order; prints a line per file and the total. A script that does not parse
     * counts as one failed eval.
     *
     * @param files the scripts
     * @return the outcomes of all evals
     * @throws IOException if a file cannot be read, or a store cannot be created or closed
     */
    public Result run(List<Path> files) throws IOException {
        List<Outcome> all = new ArrayList<>();
        for (Path f : files) {
            Result r = runFile(f);
            all.addAll(r.outcomes());
            print(f + ": " + r.summary());
        }
        Result total = new Result(all);
        print(total.summary());
        return total;
    }

    private void print(String s) {
        if (out != null) {
            out.println(s);
        }
    }

    /**
     * Runs one script file.
     *
     * @param file the script
     * @return the outcomes of its evals
     * @throws IOException if the file cannot be read, or a store cannot be created or closed
     */
    public Result runFile(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        List<ScriptParser.Command> cmds;
        List<Outcome> outcomes = new ArrayList<>();
        try {
            cmds = ScriptParser.parse(text);
        } catch (ScriptParser.ScriptParseException e) {
            // the line at fault, 1-based, as the outcome's line (file:line in the report); the message repeats it
            outcomes.add(new Outcome(
                    file, e.line(), "(whole file)", Status.FAILED, "cannot parse " + file + ": " + e.getMessage()));
            if (out != null) {
                out.println("FAIL " + outcomes.get(0));
            }
            return new Result(outcomes);
        }
        Store store = newStore();
        try {
            for (ScriptParser.Command c : cmds) {
                if (c instanceof ScriptParser.Clear) {
                    store.close();
                    store = newStore();
                } else if (c instanceof ScriptParser.Load l) {
                    try {
                        store.load(l);
                    } catch (IOException | RuntimeException e) {
                        // the evals that follow (until clear) fail with this reason
                        store.loadError = "the load at line " + l.line() + " failed: " + e.getMessage();
                    }
                } else {
                    ScriptParser.Eval e = (ScriptParser.Eval) c;
                    Outcome o = runEval(file, e, store);
                    outcomes.add(o);
                    if (out != null && o.status() == Status.FAILED) {
                        out.println("FAIL " + o);
                    } else if (out != null && verbose && o.status() == Status.SKIPPED) {
                        out.println("SKIP " + o);
                    }
                }
            }
        } finally {
            store.close();
        }
        return new Result(outcomes);
    }

    // ------------------------------------------------------------------------------------------------ stores

    private Store newStore() throws IOException {
        return backend == Backend.MEMORY ? new Store(null) : new Store(Files.createTempDirectory("tsdb-promqltest-"));
    }

    /** The data loaded so far: a store plus the labels of native-histogram series (not stored). */
    private static final class Store implements AutoCloseable {
        final Path dir;
        final StorageImpl storage;
        final MemorySeriesSource memory;
        final SeriesSource source;
        final List<Labels> histogramSeries = new ArrayList<>();
        /** Set when a load failed; evals on this data then fail with it. */
        String loadError;

        Store(Path dir) throws IOException {
            this.dir = dir;
            if (dir == null) {
                memory = new MemorySeriesSource();
                storage = null;
                source = memory;
            } else {
                memory = null;
                StorageImpl opened;
                try {
                    opened = StorageImpl.open(dir, StorageOptions.defaults());
                } catch (IOException | RuntimeException | Error e) {
                    deleteTree(dir);
                    throw e;
                }
                storage = opened;
                source = new StorageSeriesSource(storage);
            }
        }

        void load(ScriptParser.Load l) throws IOException {
            // samples of all series of this load (a series described twice: the later value wins at equal
            // timestamps, as in promqltest), grouped by timestamp and written in timestamp order
            Map<Labels, TreeMap<Long, Double>> merged = new java.util.LinkedHashMap<>();
            for (ScriptParser.SeriesDesc s : l.series()) {
                if (s.hasHistogram()) {
                    histogramSeries.add(s.labels());
                    continue;
                }
                TreeMap<Long, Double> pts = merged.computeIfAbsent(s.labels(), k -> new TreeMap<>());
                for (int i = 0; i < s.values().size(); i++) {
                    ScriptParser.SeqValue v = s.values().get(i);
                    if (!v.omitted()) {
                        pts.put(i * l.intervalMs(), v.value());
                    }
                }
            }
            if (l.withNhcb()) {
                // load_with_nhcb also stores each classic histogram as a native histogram with custom buckets under
                // the base name; those are not stored here, only remembered so that evals using them are skipped
                for (ScriptParser.SeriesDesc s : l.series()) {
                    String name = s.labels().get(Labels.METRIC_NAME);
                    if (name == null) {
                        continue;
                    }
                    for (String suffix : List.of("_bucket", "_count", "_sum")) {
                        if (name.endsWith(suffix) && name.length() > suffix.length()) {
                            histogramSeries.add(s.labels().toBuilder()
                                    .remove("le")
                                    .set(Labels.METRIC_NAME, name.substring(0, name.length() - suffix.length()))
                                    .build());
                        }
                    }
                }
            }
            TreeMap<Long, List<TimeSeries>> byTime = new TreeMap<>();
            for (Map.Entry<Labels, TreeMap<Long, Double>> s : merged.entrySet()) {
                for (Map.Entry<Long, Double> p : s.getValue().entrySet()) {
                    byTime.computeIfAbsent(p.getKey(), k -> new ArrayList<>())
                            .add(new TimeSeries(s.getKey(), List.of(new Sample(p.getKey(), p.getValue()))));
                }
            }
            for (List<TimeSeries> batch : byTime.values()) {
                if (memory != null) {
                    for (TimeSeries ts : batch) {
                        memory.add(ts.labels(), ts.samples());
                    }
                } else {
                    storage.write(batch);
                }
            }
        }

        @Override
        public void close() throws IOException {
            try {
                if (storage != null) {
                    storage.close();
                }
            } finally {
                if (dir != null) {
                    deleteTree(dir);
                }
            }
        }

        static void deleteTree(Path dir) throws IOException {
            try (Stream<Path> w = Files.walk(dir)) {
                for (Path p : w.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ evals

    private Outcome runEval(Path file, ScriptParser.Eval e, Store store) {
        if (store.loadError != null) {
            return failed(file, e, store.loadError);
        }
        String why = needsNativeHistograms(e, store);
        if (why != null) {
            return new Outcome(file, e.line(), e.expr(), Status.SKIPPED, why);
        }
        PromqlEngine engine = new PromqlEngine(store.source, options);
        QueryResult result;
        try {
            if (e.range()) {
                result = engine.rangeQuery(
                        e.expr(),
                        Instant.ofEpochMilli(e.start()),
                        Instant.ofEpochMilli(e.end()),
                        Duration.ofMillis(e.step()));
            } else {
                result = engine.instantQuery(e.expr(), Instant.ofEpochMilli(e.start()));
            }
        } catch (UnsupportedOperationException ex) {
            if (String.valueOf(ex.getMessage()).contains("native histogram")) {
                return new Outcome(file, e.line(), e.expr(), Status.SKIPPED, ex.getMessage());
            }
            return failed(file, e, "unsupported: " + ex.getMessage());
        } catch (RuntimeException ex) {
            if (!e.fail()) {
                return failed(file, e, "unexpected error: " + ex.getClass().getSimpleName() + ": " + ex.getMessage());
            }
            String msg = ex instanceof io.tsdb.query.promql.PromqlParseException pe ? pe.getMessage() : ex.getMessage();
            for (ScriptParser.Expectation x : e.expects()) {
                if (!x.kind().equals("fail") || x.matchType() == null) {
                    continue;
                }
                boolean ok = x.matchType().equals("msg")
                        ? Objects.equals(msg, x.text())
                                || (ex instanceof io.tsdb.query.promql.PromqlParseException pe2
                                        && pe2.detail().equals(x.text()))
                        : Pattern.compile(x.text()).matcher(msg).find();
                if (!ok) {
                    return failed(
                            file, e, "expected error " + x.matchType() + " \"" + x.text() + "\", got \"" + msg + "\"");
                }
            }
            return new Outcome(file, e.line(), e.expr(), Status.PASSED, null);
        }
        if (e.fail()) {
            return failed(file, e, "expected the query to fail, got: " + oneLine(result.toString()));
        }
        String annot = checkAnnotations(e, result.warnings(), "warn");
        if (annot == null) {
            annot = checkAnnotations(e, result.infos(), "info");
        }
        if (annot != null) {
            return failed(file, e, annot);
        }
        String diff = compare(e, result.value());
        return diff == null ? new Outcome(file, e.line(), e.expr(), Status.PASSED, null) : failed(file, e, diff);
    }

    private static Outcome failed(Path file, ScriptParser.Eval e, String reason) {
        return new Outcome(file, e.line(), e.expr(), Status.FAILED, oneLine(reason));
    }

    private static String oneLine(String s) {
        String x = s.replace('\n', ' ');
        return x.length() > 400 ? x.substring(0, 400) + "..." : x;
    }

    /** Why the eval needs native histograms (null if it does not). */
    private static String needsNativeHistograms(ScriptParser.Eval e, Store store) {
        if (e.expectHistograms()) {
            return "expects native histogram results";
        }
        if (store.histogramSeries.isEmpty()) {
            return null;
        }
        Expr root;
        try {
            root = Parser.parse(e.expr());
        } catch (RuntimeException ex) {
            return null;
        }
        List<List<Matcher>> selectors = new ArrayList<>();
        collectSelectors(root, selectors);
        for (List<Matcher> sel : selectors) {
            for (Labels h : store.histogramSeries) {
                boolean all = true;
                for (Matcher m : sel) {
                    if (!m.matches(h.get(m.name()))) {
                        all = false;
                        break;
                    }
                }
                if (all) {
                    return "selects native histogram series " + h;
                }
            }
        }
        return null;
    }

    private static void collectSelectors(Expr e, List<List<Matcher>> out) {
        if (e instanceof Expr.VectorSelector vs) {
            out.add(vs.matchers());
        } else if (e instanceof Expr.MatrixSelector ms) {
            out.add(ms.selector().matchers());
        } else if (e instanceof Expr.Subquery sq) {
            collectSelectors(sq.expr(), out);
        } else if (e instanceof Expr.Call c) {
            c.args().forEach(a -> collectSelectors(a, out));
        } else if (e instanceof Expr.Aggregate a) {
            if (a.param() != null) {
                collectSelectors(a.param(), out);
            }
            collectSelectors(a.expr(), out);
        } else if (e instanceof Expr.Binary b) {
            collectSelectors(b.lhs(), out);
            collectSelectors(b.rhs(), out);
        } else if (e instanceof Expr.Unary u) {
            collectSelectors(u.expr(), out);
        } else if (e instanceof Expr.Paren p) {
            collectSelectors(p.expr(), out);
        }
    }

    /** Checks the {@code expect warn|no_warn} (kind "warn") or {@code expect info|no_info} (kind "info") lines. */
    private static String checkAnnotations(ScriptParser.Eval e, List<String> warnings, String kind) {
        List<ScriptParser.Expectation> warnExpects = new ArrayList<>();
        for (ScriptParser.Expectation x : e.expects()) {
            if (x.kind().equals("no_" + kind) && !warnings.isEmpty()) {
                return "expected no " + kind + " annotations, got " + warnings;
            }
            if (x.kind().equals(kind)) {
                warnExpects.add(x);
            }
        }
        if (warnExpects.isEmpty()) {
            return null;
        }
        if (warnings.isEmpty()) {
            return "expected a " + kind + " annotation, got none";
        }
        for (ScriptParser.Expectation x : warnExpects) {
            if (x.matchType() == null) {
                continue;
            }
            boolean found = warnings.stream().anyMatch(w -> matchesText(x, w));
            if (!found) {
                return "expected " + kind + " " + x.matchType() + " \"" + x.text() + "\", got " + warnings;
            }
        }
        for (String w : warnings) {
            boolean covered = warnExpects.stream().anyMatch(x -> x.matchType() == null || matchesText(x, w));
            if (!covered) {
                return "unexpected " + kind + " annotation: " + w;
            }
        }
        return null;
    }

    private static boolean matchesText(ScriptParser.Expectation x, String s) {
        return x.matchType().equals("msg")
                ? s.equals(x.text())
                : Pattern.compile(x.text()).matcher(s).find();
    }

    // ------------------------------------------------------------------------------------------------ comparison

    /** promqltest's float comparison: NaN equals NaN, else relative tolerance 1e-6. */
    static boolean almostEqual(double a, double b) {
        if (Double.isNaN(a) && Double.isNaN(b)) {
            return true;
        }
        if (a == b) {
            return true;
        }
        double absSum = Math.abs(a) + Math.abs(b);
        double diff = Math.abs(a - b);
        double eps = 0.000001;
        if (a == 0 || b == 0 || absSum < Double.MIN_NORMAL) {
            return diff < eps * Double.MIN_NORMAL;
        }
        return diff / Math.min(absSum, Double.MAX_VALUE) < eps;
    }

    private static String fmt(double v) {
        return QueryResult.formatValue(v);
    }

    private static String compare(ScriptParser.Eval e, QueryResult.Value v) {
        if (e.string() != null) {
            if (!(v instanceof QueryResult.StringValue s)) {
                return "expected string \"" + e.string() + "\", got " + v.type();
            }
            return s.value().equals(e.string())
                    ? null
                    : "expected string \"" + e.string() + "\", got \"" + s.value() + "\"";
        }
        if (e.scalar() != null) {
            if (!(v instanceof QueryResult.Scalar s)) {
                return "expected scalar " + fmt(e.scalar()) + ", got " + v.type() + ": " + v;
            }
            return almostEqual(s.value(), e.scalar())
                    ? null
                    : "expected scalar " + fmt(e.scalar()) + ", got " + fmt(s.value());
        }
        if (e.range() || e.rangeVector() != null) {
            if (!(v instanceof QueryResult.Matrix m)) {
                return "expected a range vector, got " + v.type() + ": " + v;
            }
            long start = e.range() ? e.start() : e.rangeVector()[0];
            long step = e.range() ? e.step() : e.rangeVector()[2];
            return compareMatrix(e, m, start, step);
        }
        if (v instanceof QueryResult.Scalar s) {
            return "expected an instant vector, got scalar " + fmt(s.value());
        }
        if (!(v instanceof QueryResult.Vector vec)) {
            return "expected an instant vector, got " + v.type();
        }
        Map<String, Integer> expIndex = new HashMap<>();
        for (int i = 0; i < e.expected().size(); i++) {
            expIndex.put(e.expected().get(i).labels().toString(), i);
        }
        if (vec.samples().size() != e.expected().size()) {
            return "expected " + e.expected().size() + " samples, got "
                    + vec.samples().size() + ": " + vec;
        }
        for (int i = 0; i < vec.samples().size(); i++) {
            QueryResult.VectorSample s = vec.samples().get(i);
            Integer idx = expIndex.get(s.labels().toString());
            if (idx == null) {
                return "unexpected series " + s.labels() + " " + fmt(s.value());
            }
            if (e.ordered() && idx != i) {
                return "expected series " + s.labels() + " at position " + idx + ", got it at " + i;
            }
            double want = e.expected().get(idx).values().get(0).value();
            if (!almostEqual(s.value(), want)) {
                return "series " + s.labels() + ": expected " + fmt(want) + ", got " + fmt(s.value());
            }
        }
        return null;
    }

    private static String compareMatrix(ScriptParser.Eval e, QueryResult.Matrix m, long start, long step) {
        Map<String, ScriptParser.SeriesDesc> exp = new HashMap<>();
        for (ScriptParser.SeriesDesc s : e.expected()) {
            exp.put(s.labels().toString(), s);
        }
        if (m.series().size() != e.expected().size()) {
            return "expected " + e.expected().size() + " series, got "
                    + m.series().size() + ": " + m;
        }
        for (QueryResult.SeriesPoints s : m.series()) {
            ScriptParser.SeriesDesc want = exp.get(s.labels().toString());
            if (want == null) {
                return "unexpected series " + s;
            }
            List<QueryResult.Point> wantPts = new ArrayList<>();
            for (int i = 0; i < want.values().size(); i++) {
                ScriptParser.SeqValue sv = want.values().get(i);
                if (!sv.omitted()) {
                    wantPts.add(new QueryResult.Point(start + i * step, sv.value()));
                }
            }
            if (wantPts.size() != s.points().size()) {
                return "series " + s.labels() + ": expected " + wantPts.size() + " points " + wantPts + ", got "
                        + s.points();
            }
            for (int i = 0; i < wantPts.size(); i++) {
                QueryResult.Point w = wantPts.get(i);
                QueryResult.Point g = s.points().get(i);
                if (w.timestamp() != g.timestamp() || !almostEqual(w.value(), g.value())) {
                    return "series " + s.labels() + ": expected " + wantPts + ", got " + s.points();
                }
            }
        }
        return null;
    }

    /**
     * Command-line entry: {@code PromqlTestRunner [--memory] [-v] FILE_OR_DIR...}; exit 1 if any eval failed.
     *
     * @param args the options and files or directories
     * @throws IOException if a file or directory cannot be read, or a store cannot be created or closed
     */
    public static void main(String[] args) throws IOException {
        Backend b = Backend.STORAGE;
        boolean verbose = false;
        List<Path> files = new ArrayList<>();
        for (String a : args) {
            if (a.equals("--memory")) {
                b = Backend.MEMORY;
            } else if (a.equals("-v")) {
                verbose = true;
            } else {
                Path p = Path.of(a);
                if (Files.isDirectory(p)) {
                    files.addAll(scriptsIn(p));
                } else {
                    files.add(p);
                }
            }
        }
        Result r = new PromqlTestRunner(b, System.out, verbose).run(files);
        System.exit(r.failed() == 0 ? 0 : 1);
    }
}
