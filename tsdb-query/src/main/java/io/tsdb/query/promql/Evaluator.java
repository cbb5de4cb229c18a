package io.tsdb.query.promql;

import io.tsdb.core.Labels;
import io.tsdb.core.Sample;
import io.tsdb.core.SampleIterator;
import io.tsdb.query.Matcher;
import io.tsdb.query.PostingsPlanner;
import io.tsdb.query.SeriesSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Evaluates a parsed expression at a list of evaluation times (one for an instant query, the steps of a range query)
 * following Prometheus's semantics. One instance per query; not thread-safe.
 */
final class Evaluator {
    /** One element of an instant vector at one step; {@code t} is the sample's timestamp for raw selector output. */
    record Elem(Labels labels, double v, long t) {}

    /** An evaluated value over all steps. */
    sealed interface Val permits ScalarVal, StringVal, VecVal, RangeVal {}

    record ScalarVal(double[] v) implements Val {}

    record StringVal(String s) implements Val {}

    record VecVal(List<List<Elem>> steps) implements Val {}

    /** Series data (stale markers removed) plus, per step, the right end of the window (eff - range, eff]. */
    record RangeVal(List<SeriesArr> series, long[] windowEnd, long range) implements Val {}

    static final class SeriesArr {
        final Labels labels;
        long[] t;
        double[] v;
        int n;

        SeriesArr(Labels labels, int cap) {
            this.labels = labels;
            this.t = new long[Math.max(cap, 4)];
            this.v = new double[Math.max(cap, 4)];
        }

        void add(long ts, double val) {
            if (n == t.length) {
                t = Arrays.copyOf(t, n * 2);
                v = Arrays.copyOf(v, n * 2);
            }
            t[n] = ts;
            v[n] = val;
            n++;
        }

        /** First index with t > x. */
        int upper(long x) {
            int lo = 0;
            int hi = n;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (t[mid] <= x) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }
    }

    private final SeriesSource source;
    private final PostingsPlanner planner;
    private final String query;
    private final long queryStart;
    private final long queryEnd;
    private final long lookback;
    private final long defaultSubqueryStep;
    private final long maxSamples;
    private final long deadlineNanos;
    private long samplesLoaded;
    final List<String> warnings = new ArrayList<>();
    final List<String> infos = new ArrayList<>();
    private final boolean rangeQuery;
    /** Whether the last simple vector function mapped two different inputs to the same labels. */
    private boolean lastDropperCollided;

    Evaluator(
            SeriesSource source,
            PostingsPlanner planner,
            String query,
            long start,
            long end,
            boolean rangeQuery,
            long lookback,
            long defaultSubqueryStep,
            long maxSamples,
            long deadlineNanos) {
        this.source = source;
        this.planner = planner;
        this.query = query;
        this.queryStart = start;
        this.queryEnd = end;
        this.rangeQuery = rangeQuery;
        this.lookback = lookback;
        this.defaultSubqueryStep = defaultSubqueryStep;
        this.maxSamples = maxSamples;
        this.deadlineNanos = deadlineNanos;
    }

    private String posText(int pos) {
        int[] lc = PromqlParseException.lineCol(query, pos);
        return "(" + lc[0] + ":" + lc[1] + ")";
    }

    void info(String msg, int pos) {
        String w = "PromQL info: " + msg + " " + posText(pos);
        if (!infos.contains(w)) {
            infos.add(w);
        }
    }

    void warn(String msg, int pos) {
        String w = "PromQL warning: " + msg + " " + posText(pos);
        if (!warnings.contains(w)) {
            warnings.add(w);
        }
    }

    private void checkDeadline() {
        if (System.nanoTime() - deadlineNanos > 0) {
            throw new QueryTimeoutException("query timed out in query execution");
        }
    }

    private void countSamples(long k) {
        samplesLoaded += k;
        if (samplesLoaded > maxSamples) {
            throw new TooManySamplesException("query processing would load too many samples into memory in query "
                    + "execution (limit " + maxSamples + ")");
        }
    }

    private static PromqlEvalException fail(String msg) {
        return new PromqlEvalException(msg);
    }

    // ------------------------------------------------------------------------------------------------ dispatch

    Val eval(Expr e, long[] ts) {
        checkDeadline();
        if (e instanceof Expr.NumberLiteral n) {
            double[] v = new double[ts.length];
            Arrays.fill(v, n.value());
            return new ScalarVal(v);
        }
        if (e instanceof Expr.StringLiteral s) {
            return new StringVal(s.value());
        }
        if (e instanceof Expr.Paren p) {
            return eval(p.expr(), ts);
        }
        if (e instanceof Expr.Unary u) {
            Val v = eval(u.expr(), ts);
            if (v instanceof ScalarVal sv) {
                double[] out = new double[ts.length];
                for (int i = 0; i < out.length; i++) {
                    out[i] = -sv.v()[i];
                }
                return new ScalarVal(out);
            }
            VecVal vv = (VecVal) v;
            List<List<Elem>> steps = new ArrayList<>(ts.length);
            LabelOps.NameDropper dropper = new LabelOps.NameDropper();
            for (List<Elem> step : vv.steps()) {
                List<Elem> o = new ArrayList<>(step.size());
                for (Elem x : step) {
                    o.add(new Elem(dropper.apply(x.labels()), -x.v(), x.t()));
                }
                steps.add(o);
            }
            VecVal res = new VecVal(steps);
            return dropper.mayCollide() ? checkDuplicates(res) : res;
        }
        if (e instanceof Expr.VectorSelector vs) {
            return evalVectorSelector(vs, ts);
        }
        if (e instanceof Expr.MatrixSelector ms) {
            return evalMatrixSelector(ms, ts);
        }
        if (e instanceof Expr.Subquery sq) {
            return evalSubquery(sq, ts);
        }
        if (e instanceof Expr.Call c) {
            return evalCall(c, ts);
        }
        if (e instanceof Expr.Aggregate a) {
            return evalAggregate(a, ts);
        }
        if (e instanceof Expr.Binary b) {
            return evalBinary(b, ts);
        }
        throw new IllegalStateException("unknown expression " + e);
    }

    private long atTime(Expr.At at, long atMs, long t) {
        return switch (at) {
            case NONE -> t;
            case TIMESTAMP -> atMs;
            case START -> queryStart;
            case END -> queryEnd;
        };
    }

    // ------------------------------------------------------------------------------------------------ selectors

    private List<SeriesArr> load(List<Matcher> matchers, long mint, long maxt, boolean dropStale) {
        List<SeriesArr> out = new ArrayList<>();
        if (mint > maxt) {
            return out;
        }
        List<Labels> labels = new ArrayList<>();
        List<Integer> refs = new ArrayList<>();
        planner.select(matchers).forEach((int ref) -> {
            Labels l = source.labels(ref);
            if (l != null) {
                labels.add(l);
                refs.add(ref);
            }
        });
        Integer[] order = new Integer[labels.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> labels.get(a).compareTo(labels.get(b)));
        for (int idx : order) {
            checkDeadline();
            SeriesArr s = new SeriesArr(labels.get(idx), 16);
            SampleIterator it = source.iterator(refs.get(idx), mint, maxt);
            int k = 0;
            while (it.next()) {
                long t = it.timestamp();
                if (t < mint || t > maxt) {
                    continue;
                }
                double v = it.value();
                if (dropStale && Sample.isStaleMarker(v)) {
                    continue;
                }
                s.add(t, v);
                if (++k % 1024 == 0) {
                    countSamples(1024);
                }
            }
            countSamples(k % 1024);
            out.add(s);
        }
        return out;
    }

    private VecVal evalVectorSelector(Expr.VectorSelector vs, long[] ts) {
        long[] eff = new long[ts.length];
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (int i = 0; i < ts.length; i++) {
            eff[i] = atTime(vs.at(), vs.atMs(), ts[i]) - vs.offsetMs();
            min = Math.min(min, eff[i]);
            max = Math.max(max, eff[i]);
        }
        List<SeriesArr> series = load(vs.matchers(), min - lookback + 1, max, false);
        List<List<Elem>> steps = new ArrayList<>(ts.length);
        for (int i = 0; i < ts.length; i++) {
            steps.add(new ArrayList<>());
        }
        long produced = 0;
        for (SeriesArr s : series) {
            if (s.n == 0) {
                continue;
            }
            for (int i = 0; i < ts.length; i++) {
                int idx = s.upper(eff[i]) - 1;
                if (idx < 0) {
                    continue;
                }
                long t = s.t[idx];
                if (t <= eff[i] - lookback) {
                    continue;
                }
                double v = s.v[idx];
                if (Sample.isStaleMarker(v)) {
                    continue;
                }
                steps.get(i).add(new Elem(s.labels, v, t));
                produced++;
            }
        }
        if (ts.length > 1) {
            countSamples(produced); // per-step points held for a range query count towards the limit
        }
        return new VecVal(steps);
    }

    private RangeVal evalMatrixSelector(Expr.MatrixSelector ms, long[] ts) {
        Expr.VectorSelector vs = ms.selector();
        long[] eff = new long[ts.length];
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (int i = 0; i < ts.length; i++) {
            eff[i] = atTime(vs.at(), vs.atMs(), ts[i]) - vs.offsetMs();
            min = Math.min(min, eff[i]);
            max = Math.max(max, eff[i]);
        }
        List<SeriesArr> series = load(vs.matchers(), min - ms.rangeMs() + 1, max, true);
        return new RangeVal(series, eff, ms.rangeMs());
    }

    private RangeVal evalSubquery(Expr.Subquery sq, long[] ts) {
        long step = sq.stepMs() > 0 ? sq.stepMs() : defaultSubqueryStep;
        long[] eff = new long[ts.length];
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (int i = 0; i < ts.length; i++) {
            eff[i] = atTime(sq.at(), sq.atMs(), ts[i]) - sq.offsetMs();
            min = Math.min(min, eff[i]);
            max = Math.max(max, eff[i]);
        }
        long from = min - sq.rangeMs();
        long start = step * (from / step);
        if (start < from) {
            start += step;
        }
        int n = start > max ? 0 : (int) Math.min(Integer.MAX_VALUE - 8, (max - start) / step + 1);
        if (n > 11_000_000) {
            throw fail("subquery would evaluate " + n + " steps, more than the limit of 11000000");
        }
        long[] inner = new long[n];
        for (int i = 0; i < n; i++) {
            inner[i] = start + i * step;
        }
        Map<Labels, SeriesArr> byKey = new LinkedHashMap<>();
        if (n > 0) {
            Val v = eval(sq.expr(), inner);
            if (v instanceof ScalarVal sv) {
                SeriesArr s = new SeriesArr(Labels.empty(), n);
                for (int i = 0; i < n; i++) {
                    s.add(inner[i], sv.v()[i]);
                }
                byKey.put(Labels.empty(), s);
            } else {
                VecVal vv = (VecVal) v;
                for (int i = 0; i < n; i++) {
                    for (Elem x : vv.steps().get(i)) {
                        SeriesArr s = byKey.computeIfAbsent(x.labels(), k -> new SeriesArr(k, 16));
                        s.add(inner[i], x.v());
                    }
                }
            }
        }
        long total = 0;
        for (SeriesArr s : byKey.values()) {
            total += s.n;
        }
        countSamples(total);
        List<SeriesArr> list = new ArrayList<>(byKey.values());
        list.sort((a, b) -> a.labels.compareTo(b.labels));
        return new RangeVal(list, eff, sq.rangeMs());
    }

    // ------------------------------------------------------------------------------------------------ calls

    private static boolean keepsName(String f) {
        return f.equals("last_over_time")
                || f.equals("first_over_time")
                || f.equals("sort")
                || f.equals("sort_desc")
                || f.equals("sort_by_label")
                || f.equals("sort_by_label_desc")
                || f.equals("label_replace")
                || f.equals("label_join");
    }

    private Val evalCall(Expr.Call c, long[] ts) {
        Functions.Function f = c.function();
        String name = f.name();
        if (f.nativeHistogramOnly()) {
            throw new UnsupportedOperationException(
                    "function \"" + name + "\" needs native histograms, which this " + "engine does not support");
        }
        if (rangeQuery
                && (name.equals("sort")
                        || name.equals("sort_desc")
                        || name.equals("sort_by_label")
                        || name.equals("sort_by_label_desc"))) {
            warn("sort is ineffective for range queries since results are always ordered by labels", c.pos());
        }
        switch (name) {
            case "time": {
                double[] v = new double[ts.length];
                for (int i = 0; i < ts.length; i++) {
                    v[i] = ts[i] / 1000.0;
                }
                return new ScalarVal(v);
            }
            case "pi": {
                double[] v = new double[ts.length];
                Arrays.fill(v, Math.PI);
                return new ScalarVal(v);
            }
            case "scalar": {
                VecVal in = (VecVal) eval(c.args().get(0), ts);
                double[] v = new double[ts.length];
                for (int i = 0; i < ts.length; i++) {
                    List<Elem> s = in.steps().get(i);
                    v[i] = s.size() == 1 ? s.get(0).v() : Double.NaN;
                }
                return new ScalarVal(v);
            }
            case "histogram_quantile": {
                ScalarVal q = (ScalarVal) eval(c.args().get(0), ts);
                VecVal in = (VecVal) eval(c.args().get(1), ts);
                return checkDuplicates(Histograms.histogramQuantile(this, q, in, ts, c));
            }
            case "vector": {
                ScalarVal in = (ScalarVal) eval(c.args().get(0), ts);
                List<List<Elem>> steps = new ArrayList<>();
                for (int i = 0; i < ts.length; i++) {
                    steps.add(List.of(new Elem(Labels.empty(), in.v()[i], ts[i])));
                }
                return new VecVal(steps);
            }
            default:
                break;
        }
        int matrixArg = -1;
        for (int k = 0; k < c.args().size(); k++) {
            if (f.argType(k) == ValueType.MATRIX) {
                matrixArg = k;
            }
        }
        if (matrixArg >= 0) {
            return evalRangeFunction(c, ts, matrixArg);
        }
        if (f.minArgs() == 0 && c.args().isEmpty()) {
            // date functions default to vector(time())
            List<List<Elem>> steps = new ArrayList<>();
            for (int i = 0; i < ts.length; i++) {
                steps.add(List.of(new Elem(Labels.empty(), ts[i] / 1000.0, ts[i])));
            }
            return applyVectorFunction(c, new VecVal(steps), ts, List.of());
        }
        VecVal in = (VecVal) eval(c.args().get(0), ts);
        List<Val> rest = new ArrayList<>();
        for (int k = 1; k < c.args().size(); k++) {
            rest.add(eval(c.args().get(k), ts));
        }
        VecVal res = applyVectorFunction(c, in, ts, rest);
        return onlyDropsName(name) && !lastDropperCollided ? res : checkDuplicates(res);
    }

    private VecVal checkDuplicates(VecVal v) {
        for (List<Elem> step : v.steps()) {
            if (step.size() < 2) {
                continue;
            }
            java.util.HashSet<Labels> seen = new java.util.HashSet<>(step.size() * 2);
            for (Elem e : step) {
                if (!seen.add(e.labels())) {
                    throw fail("vector cannot contain metrics with the same labelset");
                }
            }
        }
        return v;
    }

    private static double scalarArg(List<Val> rest, int k, int step) {
        return ((ScalarVal) rest.get(k)).v()[step];
    }

    private static String stringArg(List<Val> rest, int k) {
        return ((StringVal) rest.get(k)).s();
    }

    private VecVal applyVectorFunction(Expr.Call c, VecVal in, long[] ts, List<Val> rest) {
        String name = c.function().name();
        lastDropperCollided = false;
        List<List<Elem>> out = new ArrayList<>(ts.length);
        switch (name) {
            case "label_replace":
                return labelReplace(in, stringArg(rest, 0), stringArg(rest, 1), stringArg(rest, 2), stringArg(rest, 3));
            case "label_join": {
                String dst = stringArg(rest, 0);
                String sep = stringArg(rest, 1);
                List<String> srcs = new ArrayList<>();
                for (int k = 2; k < rest.size(); k++) {
                    srcs.add(stringArg(rest, k));
                }
                if (!validLabelName(dst)) {
                    throw fail("invalid destination label name in label_join(): " + dst);
                }
                for (String s : srcs) {
                    if (!validLabelName(s)) {
                        throw fail("invalid source label name in label_join(): " + s);
                    }
                }
                for (List<Elem> step : in.steps()) {
                    List<Elem> o = new ArrayList<>(step.size());
                    for (Elem e : step) {
                        StringBuilder sb = new StringBuilder();
                        for (int k = 0; k < srcs.size(); k++) {
                            if (k > 0) {
                                sb.append(sep);
                            }
                            String v = e.labels().get(srcs.get(k));
                            sb.append(v == null ? "" : v);
                        }
                        o.add(new Elem(
                                e.labels().toBuilder().set(dst, sb.toString()).build(), e.v(), e.t()));
                    }
                    out.add(o);
                }
                return new VecVal(out);
            }
            case "sort":
            case "sort_desc": {
                boolean desc = name.equals("sort_desc");
                for (List<Elem> step : in.steps()) {
                    List<Elem> o = new ArrayList<>(step);
                    o.sort((a, b) -> {
                        boolean an = Double.isNaN(a.v());
                        boolean bn = Double.isNaN(b.v());
                        if (an || bn) {
                            return Boolean.compare(an, bn);
                        }
                        return desc ? Double.compare(b.v(), a.v()) : Double.compare(a.v(), b.v());
                    });
                    out.add(o);
                }
                return new VecVal(out);
            }
            case "sort_by_label":
            case "sort_by_label_desc": {
                boolean desc = name.equals("sort_by_label_desc");
                List<String> names = new ArrayList<>();
                for (int k = 0; k < rest.size(); k++) {
                    names.add(stringArg(rest, k));
                }
                for (List<Elem> step : in.steps()) {
                    List<Elem> o = new ArrayList<>(step);
                    o.sort((a, b) -> {
                        for (String n : names) {
                            String av = a.labels().get(n);
                            String bv = b.labels().get(n);
                            int cmp = naturalCompare(av == null ? "" : av, bv == null ? "" : bv);
                            if (cmp != 0) {
                                return desc ? -cmp : cmp;
                            }
                        }
                        int cmp = a.labels().compareTo(b.labels());
                        return desc ? -cmp : cmp;
                    });
                    out.add(o);
                }
                return new VecVal(out);
            }
            case "absent": {
                Labels l = absentLabels(c.args().get(0));
                for (int i = 0; i < ts.length; i++) {
                    out.add(in.steps().get(i).isEmpty() ? List.of(new Elem(l, 1, ts[i])) : List.of());
                }
                return new VecVal(out);
            }
            default:
                break;
        }
        boolean keep = keepsName(name);
        LabelOps.NameDropper dropper = new LabelOps.NameDropper();
        for (int i = 0; i < ts.length; i++) {
            List<Elem> step = in.steps().get(i);
            List<Elem> o = new ArrayList<>(step.size());
            for (Elem e : step) {
                double x = e.v();
                double r;
                switch (name) {
                    case "abs":
                        r = Math.abs(x);
                        break;
                    case "ceil":
                        r = Math.ceil(x);
                        break;
                    case "floor":
                        r = Math.floor(x);
                        break;
                    case "exp":
                        r = Math.exp(x);
                        break;
                    case "ln":
                        r = Math.log(x);
                        break;
                    case "log2":
                        r = Math.log(x) / Math.log(2);
                        break;
                    case "log10":
                        r = Math.log10(x);
                        break;
                    case "sqrt":
                        r = Math.sqrt(x);
                        break;
                    case "sgn":
                        r = Double.isNaN(x) ? x : Math.signum(x);
                        break;
                    case "acos":
                        r = Math.acos(x);
                        break;
                    case "acosh":
                        r = Math.log(x + Math.sqrt(x * x - 1));
                        break;
                    case "asin":
                        r = Math.asin(x);
                        break;
                    case "asinh":
                        r = Double.isInfinite(x) ? x : Math.log(x + Math.sqrt(x * x + 1));
                        break;
                    case "atan":
                        r = Math.atan(x);
                        break;
                    case "atanh":
                        r = 0.5 * Math.log((1 + x) / (1 - x));
                        break;
                    case "cos":
                        r = Math.cos(x);
                        break;
                    case "cosh":
                        r = Math.cosh(x);
                        break;
                    case "sin":
                        r = Math.sin(x);
                        break;
                    case "sinh":
                        r = Math.sinh(x);
                        break;
                    case "tan":
                        r = Math.tan(x);
                        break;
                    case "tanh":
                        r = Math.tanh(x);
                        break;
                    case "deg":
                        r = x * 180 / Math.PI;
                        break;
                    case "rad":
                        r = x * Math.PI / 180;
                        break;
                    case "timestamp":
                        r = e.t() / 1000.0;
                        break;
                    case "clamp": {
                        double lo = scalarArg(rest, 0, i);
                        double hi = scalarArg(rest, 1, i);
                        if (hi < lo) {
                            continue;
                        }
                        r = Math.max(lo, Math.min(hi, x));
                        break;
                    }
                    case "clamp_max":
                        r = Math.min(scalarArg(rest, 0, i), x);
                        break;
                    case "clamp_min":
                        r = Math.max(scalarArg(rest, 0, i), x);
                        break;
                    case "round": {
                        double to = rest.isEmpty() ? 1 : scalarArg(rest, 0, i);
                        double inv = 1.0 / to;
                        r = Math.floor(x * inv + 0.5) / inv;
                        break;
                    }
                    case "day_of_month":
                    case "day_of_week":
                    case "day_of_year":
                    case "days_in_month":
                    case "hour":
                    case "minute":
                    case "month":
                    case "year":
                        r = dateFunction(name, x);
                        break;
                    default:
                        throw new UnsupportedOperationException("function \"" + name + "\" is not implemented");
                }
                Labels l = keep ? e.labels() : dropper.apply(e.labels());
                o.add(new Elem(l, r, ts[i]));
            }
            out.add(o);
        }
        lastDropperCollided = dropper.mayCollide();
        return new VecVal(out);
    }

    /** Vector functions that only drop the name check duplicates only when two inputs can collide. */
    private static boolean onlyDropsName(String name) {
        return switch (name) {
            case "label_replace", "label_join", "absent", "histogram_quantile" -> false;
            default -> true;
        };
    }

    private static double dateFunction(String name, double x) {
        if (Double.isNaN(x) || Double.isInfinite(x)) {
            return Double.NaN;
        }
        java.time.ZonedDateTime d = java.time.Instant.ofEpochSecond((long) x).atZone(java.time.ZoneOffset.UTC);
        return switch (name) {
            case "day_of_month" -> d.getDayOfMonth();
            case "day_of_week" -> d.getDayOfWeek().getValue() % 7;
            case "day_of_year" -> d.getDayOfYear();
            case "days_in_month" -> d.toLocalDate().lengthOfMonth();
            case "hour" -> d.getHour();
            case "minute" -> d.getMinute();
            case "month" -> d.getMonthValue();
            default -> d.getYear();
        };
    }

    static int naturalCompare(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i);
            char cb = b.charAt(j);
            if (Character.isDigit(ca) && Character.isDigit(cb)) {
                int si = i;
                int sj = j;
                while (i < a.length() && Character.isDigit(a.charAt(i))) {
                    i++;
                }
                while (j < b.length() && Character.isDigit(b.charAt(j))) {
                    j++;
                }
                String na = a.substring(si, i).replaceFirst("^0+(?=.)", "");
                String nb = b.substring(sj, j).replaceFirst("^0+(?=.)", "");
                if (na.length() != nb.length()) {
                    return Integer.compare(na.length(), nb.length());
                }
                int cmp = na.compareTo(nb);
                if (cmp != 0) {
                    return cmp;
                }
            } else {
                if (ca != cb) {
                    return Character.compare(ca, cb);
                }
                i++;
                j++;
            }
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    static boolean validLabelName(String n) {
        if (n == null || n.isEmpty()) {
            return false;
        }
        for (int i = 0; i < n.length(); i++) {
            char c = n.charAt(i);
            boolean ok =
                    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private VecVal labelReplace(VecVal in, String dst, String repl, String src, String regex) {
        java.util.regex.Pattern p;
        try {
            // RE2 syntax as in selectors: (?P<name>...) named groups, POSIX classes
            p = Matcher.anchoredPattern(regex);
        } catch (java.util.regex.PatternSyntaxException ex) {
            throw fail("invalid regular expression in label_replace(): " + regex);
        }
        if (!validLabelName(dst)) {
            throw fail("invalid destination label name in label_replace(): " + dst);
        }
        List<List<Elem>> out = new ArrayList<>();
        for (List<Elem> step : in.steps()) {
            List<Elem> o = new ArrayList<>(step.size());
            for (Elem e : step) {
                String sv = e.labels().get(src);
                java.util.regex.Matcher m = p.matcher(sv == null ? "" : sv);
                if (!m.matches()) {
                    o.add(e);
                    continue;
                }
                String res = expandTemplate(repl, m);
                o.add(new Elem(e.labels().toBuilder().set(dst, res).build(), e.v(), e.t()));
            }
            out.add(o);
        }
        return new VecVal(out);
    }

    /** Go regexp.Expand semantics: $1, ${1}, $name, ${name}, $$. */
    static String expandTemplate(String tpl, java.util.regex.Matcher m) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < tpl.length(); i++) {
            char c = tpl.charAt(i);
            if (c != '$' || i + 1 >= tpl.length()) {
                sb.append(c);
                continue;
            }
            char n = tpl.charAt(i + 1);
            if (n == '$') {
                sb.append('$');
                i++;
                continue;
            }
            String name;
            int end;
            if (n == '{') {
                int close = tpl.indexOf('}', i + 2);
                if (close < 0) {
                    sb.append(c);
                    continue;
                }
                name = tpl.substring(i + 2, close);
                end = close;
            } else {
                int j = i + 1;
                while (j < tpl.length() && (Character.isLetterOrDigit(tpl.charAt(j)) || tpl.charAt(j) == '_')) {
                    j++;
                }
                if (j == i + 1) {
                    sb.append(c);
                    continue;
                }
                name = tpl.substring(i + 1, j);
                end = j - 1;
            }
            String val = "";
            if (!name.isEmpty() && name.chars().allMatch(Character::isDigit)) {
                try {
                    int g = Integer.parseInt(name);
                    if (g <= m.groupCount() && m.group(g) != null) {
                        val = m.group(g);
                    }
                } catch (NumberFormatException ignored) {
                    val = "";
                }
            } else {
                try {
                    String gv = m.group(name);
                    val = gv == null ? "" : gv;
                } catch (IllegalArgumentException ignored) {
                    val = "";
                }
            }
            sb.append(val);
            i = end;
        }
        return sb.toString();
    }

    private Labels absentLabels(Expr arg) {
        Expr e = arg;
        while (e instanceof Expr.Paren p) {
            e = p.expr();
        }
        Expr.VectorSelector vs = null;
        if (e instanceof Expr.VectorSelector v) {
            vs = v;
        } else if (e instanceof Expr.MatrixSelector m) {
            vs = m.selector();
        }
        if (vs == null) {
            return Labels.empty();
        }
        Map<String, String> eq = new LinkedHashMap<>();
        Map<String, Integer> counts = new HashMap<>();
        for (Matcher m : vs.matchers()) {
            if (m.name().equals(LabelOps.NAME)) {
                continue;
            }
            counts.merge(m.name(), 1, Integer::sum);
            if (m.type() == Matcher.Type.EQUAL) {
                eq.put(m.name(), m.value());
            }
        }
        Labels.Builder b = Labels.builder();
        boolean any = false;
        for (Map.Entry<String, String> x : eq.entrySet()) {
            if (counts.get(x.getKey()) == 1 && !x.getValue().isEmpty()) {
                b.set(x.getKey(), x.getValue());
                any = true;
            }
        }
        return any ? b.build() : Labels.empty();
    }

    // ------------------------------------------------------------------------------------------------ range functions

    private VecVal evalRangeFunction(Expr.Call c, long[] ts, int matrixArg) {
        String name = c.function().name();
        List<Val> scalars = new ArrayList<>();
        for (int k = 0; k < c.args().size(); k++) {
            if (k != matrixArg) {
                scalars.add(eval(c.args().get(k), ts));
            }
        }
        RangeVal rv = (RangeVal) eval(c.args().get(matrixArg), ts);
        if (name.equals("quantile_over_time")) {
            for (double q : ((ScalarVal) scalars.get(0)).v()) {
                if (Double.isNaN(q) || q < 0 || q > 1) {
                    quantileWarning(q, c.args().get(0).pos());
                }
            }
        }
        List<List<Elem>> out = new ArrayList<>(ts.length);
        boolean keep = keepsName(name);
        if (name.equals("absent_over_time")) {
            Labels l = absentLabels(c.args().get(0));
            for (int i = 0; i < ts.length; i++) {
                boolean any = false;
                for (SeriesArr s : rv.series()) {
                    int hi = s.upper(rv.windowEnd()[i]);
                    int lo = s.upper(rv.windowEnd()[i] - rv.range());
                    if (hi > lo) {
                        any = true;
                        break;
                    }
                }
                out.add(any ? List.of() : List.of(new Elem(l, 1, ts[i])));
            }
            return new VecVal(out);
        }
        for (int i = 0; i < ts.length; i++) {
            out.add(new ArrayList<>());
        }
        LabelOps.NameDropper dropper = new LabelOps.NameDropper();
        long produced = 0;
        boolean counterFn = name.equals("rate") || name.equals("increase");
        for (SeriesArr s : rv.series()) {
            checkDeadline();
            Labels l = keep ? s.labels : dropper.apply(s.labels);
            String metric = s.labels.get(LabelOps.NAME);
            if (counterFn
                    && metric != null
                    && s.n > 0
                    && !metric.endsWith("_total")
                    && !metric.endsWith("_sum")
                    && !metric.endsWith("_count")
                    && !metric.endsWith("_bucket")) {
                info(
                        "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"" + metric
                                + "\"",
                        c.args().get(matrixArg).pos());
            }
            for (int i = 0; i < ts.length; i++) {
                long end = rv.windowEnd()[i];
                long startEx = end - rv.range();
                int hi = s.upper(end);
                int lo = s.upper(startEx);
                if (hi <= lo) {
                    continue;
                }
                double r = RangeFunctions.apply(name, s.t, s.v, lo, hi, startEx, end, rv.range(), ts[i], scalars, i);
                if (RangeFunctions.isNone(r)) {
                    continue;
                }
                out.get(i).add(new Elem(l, r, ts[i]));
                produced++;
            }
        }
        if (ts.length > 1) {
            countSamples(produced);
        }
        VecVal res = new VecVal(out);
        return dropper.mayCollide() ? checkDuplicates(res) : res;
    }

    // ------------------------------------------------------------------------------------------------ aggregation

    private VecVal evalAggregate(Expr.Aggregate a, long[] ts) {
        Val param = a.param() == null ? null : eval(a.param(), ts);
        VecVal in = (VecVal) eval(a.expr(), ts);
        return Aggregations.aggregate(this, a, param, in, ts);
    }

    void quantileWarning(double q, int pos) {
        warn("quantile value should be between 0 and 1, got " + QueryResult.formatValue(q), pos);
    }

    // ------------------------------------------------------------------------------------------------ binary

    private Val evalBinary(Expr.Binary b, long[] ts) {
        Val l = eval(b.lhs(), ts);
        Val r = eval(b.rhs(), ts);
        TokenType op = b.op();
        if (l instanceof ScalarVal ls && r instanceof ScalarVal rs) {
            double[] out = new double[ts.length];
            for (int i = 0; i < ts.length; i++) {
                double x = ls.v()[i];
                double y = rs.v()[i];
                if (Parser.isComparison(op)) {
                    out[i] = compare(op, x, y) ? 1 : 0;
                } else {
                    out[i] = arith(op, x, y);
                }
            }
            return new ScalarVal(out);
        }
        if (l instanceof VecVal lv && r instanceof VecVal rv) {
            return checkDuplicates(BinaryOps.vectorBinary(b, lv, rv, ts));
        }
        boolean scalarLeft = l instanceof ScalarVal;
        VecVal v = (VecVal) (scalarLeft ? r : l);
        ScalarVal s = (ScalarVal) (scalarLeft ? l : r);
        boolean cmp = Parser.isComparison(op);
        boolean drop = !cmp || b.returnBool();
        LabelOps.NameDropper dropper = new LabelOps.NameDropper();
        List<List<Elem>> out = new ArrayList<>(ts.length);
        for (int i = 0; i < ts.length; i++) {
            List<Elem> step = v.steps().get(i);
            List<Elem> o = new ArrayList<>(step.size());
            double sv = s.v()[i];
            for (Elem e : step) {
                double x = scalarLeft ? sv : e.v();
                double y = scalarLeft ? e.v() : sv;
                double res;
                if (cmp) {
                    boolean keep = compare(op, x, y);
                    if (b.returnBool()) {
                        res = keep ? 1 : 0;
                    } else if (!keep) {
                        continue;
                    } else {
                        res = e.v();
                    }
                } else {
                    res = arith(op, x, y);
                }
                o.add(new Elem(drop ? dropper.apply(e.labels()) : e.labels(), res, e.t()));
            }
            out.add(o);
        }
        VecVal res = new VecVal(out);
        return dropper.mayCollide() ? checkDuplicates(res) : res;
    }

    static boolean compare(TokenType op, double x, double y) {
        return switch (op) {
            case EQLC -> x == y;
            case NEQ -> x != y;
            case GTR -> x > y;
            case LSS -> x < y;
            case GTE -> x >= y;
            case LTE -> x <= y;
            default -> throw new IllegalStateException("not a comparison: " + op);
        };
    }

    static double arith(TokenType op, double x, double y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MOD -> x % y;
            case POW -> goPow(x, y);
            case ATAN2 -> Math.atan2(x, y);
            default -> throw new IllegalStateException("not an arithmetic operator: " + op);
        };
    }

    /** Go's math.Pow, which differs from Java's for a few special cases. */
    static double goPow(double x, double y) {
        if (y == 0 || x == 1) {
            return 1;
        }
        if (x == -1 && Double.isInfinite(y)) {
            return 1;
        }
        return Math.pow(x, y);
    }
}
