package io.tsdb.query.promql;

import io.tsdb.core.Labels;
import io.tsdb.core.StorageImpl;
import io.tsdb.query.PostingsPlanner;
import io.tsdb.query.SeriesSource;
import io.tsdb.query.StorageSeriesSource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Evaluates PromQL instant and range queries over a store, with Prometheus's semantics (5-minute lookback by
 * default, staleness markers, extrapolated rates). Native histograms are not supported: queries that need them fail
 * with {@link UnsupportedOperationException}. Thread-safe; each query is evaluated independently.
 */
public final class PromqlEngine {
    /** Maximum number of steps of a range query, as in Prometheus. */
    public static final int MAX_RANGE_POINTS = 11_000;

    /**
     * Engine options; {@link #defaults()} matches Prometheus's defaults. Immutable.
     *
     * @param timeout             wall time a query may run (default 2 min), positive; checked while it
     *                            evaluates ({@link QueryTimeoutException})
     * @param maxSamples          samples a query may hold in memory at once (default 50,000,000), positive
     *                            ({@link TooManySamplesException})
     * @param lookbackDelta       how far back an instant selector looks for a sample (default 5 min), positive;
     *                            used in milliseconds
     * @param defaultSubqueryStep the step of a subquery that names none (default 1 min), positive; used in
     *                            milliseconds
     */
    public record Options(Duration timeout, long maxSamples, Duration lookbackDelta, Duration defaultSubqueryStep) {
        /**
         * Checks the options.
         *
         * @param timeout             see the record's components
         * @param maxSamples          see the record's components
         * @param lookbackDelta       see the record's components
         * @param defaultSubqueryStep see the record's components
         * @throws NullPointerException     if a duration is null
         * @throws IllegalArgumentException if a duration or {@code maxSamples} is not positive
         */
        public Options {
            Objects.requireNonNull(timeout, "timeout");
            Objects.requireNonNull(lookbackDelta, "lookbackDelta");
            Objects.requireNonNull(defaultSubqueryStep, "defaultSubqueryStep");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive, got " + timeout);
            }
            if (maxSamples <= 0) {
                throw new IllegalArgumentException("maxSamples must be positive, got " + maxSamples);
            }
            if (lookbackDelta.isNegative() || lookbackDelta.isZero()) {
                throw new IllegalArgumentException("lookbackDelta must be positive, got " + lookbackDelta);
            }
            if (defaultSubqueryStep.isNegative() || defaultSubqueryStep.isZero()) {
                throw new IllegalArgumentException("defaultSubqueryStep must be positive, got " + defaultSubqueryStep);
            }
        }

        /** {@return timeout 2 min, 50,000,000 samples, lookback 5 min, subquery step 1 min} */
        public static Options defaults() {
            return new Options(Duration.ofMinutes(2), 50_000_000L, Duration.ofMinutes(5), Duration.ofMinutes(1));
        }

        /**
         * A copy with another {@code timeout}.
         *
         * @param d the new value, positive
         * @return the new options
         * @throws IllegalArgumentException if it is not positive
         * @throws NullPointerException     if it is null
         */
        public Options withTimeout(Duration d) {
            return new Options(d, maxSamples, lookbackDelta, defaultSubqueryStep);
        }

        /**
         * A copy with another {@code maxSamples}.
         *
         * @param n the new value, positive
         * @return the new options
         * @throws IllegalArgumentException if it is not positive
         */
        public Options withMaxSamples(long n) {
            return new Options(timeout, n, lookbackDelta, defaultSubqueryStep);
        }

        /**
         * A copy with another {@code lookbackDelta}.
         *
         * @param d the new value, positive
         * @return the new options
         * @throws IllegalArgumentException if it is not positive
         * @throws NullPointerException     if it is null
         */
        public Options withLookbackDelta(Duration d) {
            return new Options(timeout, maxSamples, d, defaultSubqueryStep);
        }

        /**
         * A copy with another {@code defaultSubqueryStep}.
         *
         * @param d the new value, positive
         * @return the new options
         * @throws IllegalArgumentException if it is not positive
         * @throws NullPointerException     if it is null
         */
        public Options withDefaultSubqueryStep(Duration d) {
            return new Options(timeout, maxSamples, lookbackDelta, d);
        }
    }

    private final SeriesSource source;
    private final PostingsPlanner planner;
    private final Options options;

    /**
     * An engine over a store, with {@link Options#defaults()}.
     *
     * @param storage the store; queries throw {@link io.tsdb.core.StoreClosedException} once it is closed
     * @throws NullPointerException if {@code storage} is null
     */
    public PromqlEngine(StorageImpl storage) {
        this(storage, Options.defaults());
    }

    /**
     * An engine over a store.
     *
     * @param storage the store; queries throw {@link io.tsdb.core.StoreClosedException} once it is closed
     * @param options the engine options
     * @throws NullPointerException if an argument is null
     */
    public PromqlEngine(StorageImpl storage, Options options) {
        this(new StorageSeriesSource(storage), options);
    }

    /**
     * An engine over any {@link SeriesSource}.
     *
     * @param source  what the queries read
     * @param options the engine options
     * @throws NullPointerException if an argument is null
     */
    public PromqlEngine(SeriesSource source, Options options) {
        this.source = Objects.requireNonNull(source, "source");
        this.options = Objects.requireNonNull(options, "options");
        this.planner = new PostingsPlanner(source);
    }

    /** {@return the engine options} */
    public Options options() {
        return options;
    }

    /**
     * Evaluates {@code expr} at time {@code t}. Safe to call from several threads at once.
     *
     * @param expr the PromQL expression
     * @param t    the evaluation time; used at millisecond precision ({@link Instant#toEpochMilli()})
     * @return a scalar, string, vector or (for a range selector such as {@code up[5m]}) matrix, with the
     *         evaluation's warnings and infos
     * @throws NullPointerException      if an argument is null
     * @throws PromqlParseException      if {@code expr} is not valid PromQL (a syntax or type error); an
     *                                   {@link IllegalArgumentException}
     * @throws NumberFormatException     if a duration literal does not fit in a {@code long} (e.g.
     *                                   {@code up[99999999999999999999s]}): the parser lets it through
     *                                   instead of a {@code PromqlParseException}
     * @throws PromqlEvalException       if evaluation failed (e.g. an invalid regex in {@code label_replace},
     *                                   two series with one label set in a vector, a subquery of too many steps); its subclasses
     *                                   {@link QueryTimeoutException} (ran past {@link Options#timeout()}) and
     *                                   {@link TooManySamplesException} (more than {@link Options#maxSamples()}
     *                                   samples in memory at once)
     * @throws UnsupportedOperationException if the query needs native histograms, or a function or aggregation
     *                                   that is not implemented
     * @throws io.tsdb.core.StoreClosedException if the engine reads a {@link StorageImpl} that is closed
     */
    public QueryResult instantQuery(String expr, Instant t) {
        Objects.requireNonNull(expr, "expr");
        Objects.requireNonNull(t, "t");
        Expr e = Parser.parse(expr);
        long ts = t.toEpochMilli();
        Evaluator ev = newEvaluator(expr, ts, ts, false);
        Evaluator.Val v = ev.eval(e, new long[] {ts});
        QueryResult.Value out;
        if (v instanceof Evaluator.ScalarVal s) {
            out = new QueryResult.Scalar(ts, s.v()[0]);
        } else if (v instanceof Evaluator.StringVal s) {
            out = new QueryResult.StringValue(ts, s.s());
        } else if (v instanceof Evaluator.VecVal vv) {
            List<QueryResult.VectorSample> samples = new ArrayList<>();
            for (Evaluator.Elem x : vv.steps().get(0)) {
                samples.add(new QueryResult.VectorSample(x.labels(), ts, x.v()));
            }
            out = new QueryResult.Vector(samples);
        } else {
            Evaluator.RangeVal rv = (Evaluator.RangeVal) v;
            List<QueryResult.SeriesPoints> series = new ArrayList<>();
            long end = rv.windowEnd()[0];
            for (Evaluator.SeriesArr s : rv.series()) {
                int hi = s.upper(end);
                int lo = s.upper(end - rv.range());
                if (hi <= lo) {
                    continue;
                }
                List<QueryResult.Point> pts = new ArrayList<>(hi - lo);
                for (int k = lo; k < hi; k++) {
                    pts.add(new QueryResult.Point(s.t[k], s.v[k]));
                }
                series.add(new QueryResult.SeriesPoints(s.labels, pts));
            }
            out = new QueryResult.Matrix(series);
        }
        return new QueryResult(out, ev.warnings, ev.infos);
    }

    /**
     * Evaluates {@code expr} at each step from {@code start} to {@code end} inclusive. Safe to call from
     * several threads at once.
     *
     * @param expr  the PromQL expression; must be of type scalar or instant vector
     * @param start the first evaluation time, inclusive; used at millisecond precision
     * @param end   the last evaluation time, inclusive; not before {@code start}
     * @param step  the distance between evaluation times; at least 1 ms (used in whole milliseconds)
     * @return a matrix: one series per label set (sorted by labels; a scalar gives one series with no
     *         labels), with the evaluation's warnings and infos
     * @throws NullPointerException      if an argument is null
     * @throws IllegalArgumentException  if {@code step} is below 1 ms, {@code end} is before {@code start},
     *                                   or there would be more than {@link #MAX_RANGE_POINTS} steps
     * @throws PromqlParseException      if {@code expr} is not valid PromQL, or is neither a scalar nor an
     *                                   instant vector (e.g. {@code up[5m]})
     * @throws NumberFormatException     if a duration literal does not fit in a {@code long}, as for
     *                                   {@link #instantQuery}
     * @throws PromqlEvalException       if evaluation failed (e.g. an invalid regex in {@code label_replace},
     *                                   two series with one label set in a vector, a subquery of too many steps); its subclasses
     *                                   {@link QueryTimeoutException} (ran past {@link Options#timeout()}) and
     *                                   {@link TooManySamplesException} (more than {@link Options#maxSamples()}
     *                                   samples in memory at once)
     * @throws UnsupportedOperationException if the query needs native histograms, or a function or aggregation
     *                                   that is not implemented
     * @throws io.tsdb.core.StoreClosedException if the engine reads a {@link StorageImpl} that is closed
     */
    public QueryResult rangeQuery(String expr, Instant start, Instant end, Duration step) {
        Objects.requireNonNull(expr, "expr");
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(end, "end");
        Objects.requireNonNull(step, "step");
        if (step.isNegative() || step.isZero()) {
            throw new IllegalArgumentException("range query step must be positive, got " + step);
        }
        if (end.isBefore(start)) {
            throw new IllegalArgumentException("range query end " + end + " is before start " + start);
        }
        long s = start.toEpochMilli();
        long en = end.toEpochMilli();
        long st = step.toMillis();
        if (st <= 0) {
            throw new IllegalArgumentException("range query step must be at least 1ms, got " + step);
        }
        long n = (en - s) / st + 1;
        if (n > MAX_RANGE_POINTS) {
            throw new IllegalArgumentException("exceeded maximum resolution of " + MAX_RANGE_POINTS
                    + " points per timeseries: " + n + " steps from " + start + " to " + end + " by " + step);
        }
        Expr e = Parser.parse(expr);
        if (e.type() != ValueType.SCALAR && e.type() != ValueType.VECTOR) {
            throw new PromqlParseException(
                    expr,
                    0,
                    "invalid expression type \"" + e.type() + "\" for range query, must be Scalar or instant Vector");
        }
        long[] ts = new long[(int) n];
        for (int i = 0; i < n; i++) {
            ts[i] = s + i * st;
        }
        Evaluator ev = newEvaluator(expr, s, en, s != en);
        Evaluator.Val v = ev.eval(e, ts);
        List<QueryResult.SeriesPoints> series = new ArrayList<>();
        if (v instanceof Evaluator.ScalarVal sv) {
            List<QueryResult.Point> pts = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                pts.add(new QueryResult.Point(ts[i], sv.v()[i]));
            }
            series.add(new QueryResult.SeriesPoints(Labels.empty(), pts));
        } else {
            Evaluator.VecVal vv = (Evaluator.VecVal) v;
            Map<Labels, List<QueryResult.Point>> points = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                for (Evaluator.Elem x : vv.steps().get(i)) {
                    points.computeIfAbsent(x.labels(), key -> new ArrayList<>())
                            .add(new QueryResult.Point(ts[i], x.v()));
                }
            }
            for (Map.Entry<Labels, List<QueryResult.Point>> en2 : points.entrySet()) {
                series.add(new QueryResult.SeriesPoints(en2.getKey(), en2.getValue()));
            }
            series.sort((a, b) -> a.labels().compareTo(b.labels()));
        }
        return new QueryResult(new QueryResult.Matrix(series), ev.warnings, ev.infos);
    }

    private Evaluator newEvaluator(String expr, long start, long end, boolean range) {
        long deadline = System.nanoTime() + options.timeout().toNanos();
        return new Evaluator(
                source,
                planner,
                expr,
                start,
                end,
                range,
                options.lookbackDelta().toMillis(),
                options.defaultSubqueryStep().toMillis(),
                options.maxSamples(),
                deadline);
    }
}
