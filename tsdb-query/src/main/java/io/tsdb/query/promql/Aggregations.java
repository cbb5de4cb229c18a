package io.tsdb.query.promql;

import io.tsdb.core.Labels;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Aggregation operators (sum, avg, topk, quantile, ...), evaluated step by step. */
final class Aggregations {
    private Aggregations() {}

    private static final class Group {
        final Labels labels;
        final List<Evaluator.Elem> elems = new ArrayList<>();

        Group(Labels labels) {
            this.labels = labels;
        }
    }

    static Evaluator.VecVal aggregate(
            Evaluator ev, Expr.Aggregate a, Evaluator.Val param, Evaluator.VecVal in, long[] ts) {
        String op = a.op();
        List<List<Evaluator.Elem>> out = new ArrayList<>(ts.length);
        String countLabel = null;
        if (op.equals("count_values")) {
            countLabel = ((Evaluator.StringVal) param).s();
            if (!Evaluator.validLabelName(countLabel)) {
                throw new PromqlEvalException("invalid label name " + Lexer.goQuote(countLabel));
            }
        }
        // group labels per input label-set instance (the same instances recur at every step)
        // (mapped to one canonical instance per group, so that per-step grouping compares references only)
        java.util.IdentityHashMap<Labels, Labels> groupCache = new java.util.IdentityHashMap<>();
        Map<Labels, Labels> canonical = new java.util.HashMap<>();
        for (int i = 0; i < ts.length; i++) {
            double p = param instanceof Evaluator.ScalarVal sv ? sv.v()[i] : Double.NaN;
            if (op.equals("limit_ratio")) {
                // Prometheus takes limit_ratio's ratio from the first step for the whole range
                p = ((Evaluator.ScalarVal) param).v()[0];
            }
            if ((op.equals("topk") || op.equals("bottomk") || op.equals("limitk")) && Double.isNaN(p)) {
                throw new PromqlEvalException("Parameter value is NaN");
            }
            if (op.equals("limit_ratio") && Double.isNaN(p)) {
                throw new PromqlEvalException("Ratio value is NaN");
            }
            if (op.equals("limit_ratio") && (p < -1 || p > 1)) {
                ev.warn(
                        "ratio value should be between -1 and 1, got " + QueryResult.formatValue(p) + ", capping to "
                                + QueryResult.formatValue(Math.max(-1, Math.min(1, p))),
                        a.param().pos());
            }
            if (op.equals("quantile") && (Double.isNaN(p) || p < 0 || p > 1)) {
                ev.quantileWarning(p, a.param().pos());
            }
            List<Evaluator.Elem> step = in.steps().get(i);
            Map<Labels, Group> groups =
                    op.equals("count_values") ? new LinkedHashMap<>() : new java.util.IdentityHashMap<>();
            List<Group> order = new ArrayList<>();
            for (Evaluator.Elem e : step) {
                Labels gl;
                if (op.equals("count_values")) {
                    Labels base = a.without()
                            ? LabelOps.without(e.labels(), a.grouping(), true)
                            : LabelOps.keep(e.labels(), a.grouping());
                    gl = base.toBuilder()
                            .set(countLabel, formatCountValue(e.v()))
                            .build();
                } else {
                    gl = groupCache.get(e.labels());
                    if (gl == null) {
                        Labels fresh = a.without()
                                ? LabelOps.without(e.labels(), a.grouping(), true)
                                : LabelOps.keep(e.labels(), a.grouping());
                        gl = canonical.computeIfAbsent(fresh, k -> k);
                        if (groupCache.size() < 1_000_000) {
                            groupCache.put(e.labels(), gl);
                        } else {
                            canonical.clear();
                            groupCache.clear();
                        }
                    }
                }
                Group g = groups.get(gl);
                if (g == null) {
                    g = new Group(gl);
                    groups.put(gl, g);
                    order.add(g);
                }
                g.elems.add(e);
            }
            List<Evaluator.Elem> o = new ArrayList<>(order.size());
            for (Group g : order) {
                aggregateGroup(op, g, p, ts[i], o);
            }
            out.add(o);
        }
        return new Evaluator.VecVal(out);
    }

    static double unsignedFraction(long h) {
        double u = (double) (h >>> 1) * 2.0 + (h & 1);
        return Math.min(u / 18446744073709551616.0, Math.nextDown(1.0));
    }

    static String formatCountValue(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        if (v == 0) {
            return (1 / v < 0) ? "-0" : "0";
        }
        return new BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
    }

    private static void aggregateGroup(String op, Group g, double p, long t, List<Evaluator.Elem> o) {
        List<Evaluator.Elem> es = g.elems;
        switch (op) {
            case "sum": {
                double sum = 0;
                double c = 0;
                for (Evaluator.Elem e : es) {
                    double[] r = RangeFunctions.kahanSumInc(e.v(), sum, c);
                    sum = r[0];
                    c = r[1];
                }
                o.add(new Evaluator.Elem(g.labels, Double.isInfinite(sum) ? sum : sum + c, t));
                return;
            }
            case "avg": {
                double[] v = new double[es.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = es.get(i).v();
                }
                o.add(new Evaluator.Elem(g.labels, RangeFunctions.mean(v, 0, v.length), t));
                return;
            }
            case "count":
            case "count_values":
                o.add(new Evaluator.Elem(g.labels, es.size(), t));
                return;
            case "group":
                o.add(new Evaluator.Elem(g.labels, 1, t));
                return;
            case "max":
            case "min": {
                double m = es.get(0).v();
                for (int i = 1; i < es.size(); i++) {
                    double x = es.get(i).v();
                    if (op.equals("max") ? (m < x || Double.isNaN(m)) : (m > x || Double.isNaN(m))) {
                        m = x;
                    }
                }
                o.add(new Evaluator.Elem(g.labels, m, t));
                return;
            }
            case "stddev":
            case "stdvar": {
                double first = es.get(0).v();
                double count = 1;
                double mean = first;
                double value = Double.isNaN(first) || Double.isInfinite(first) ? Double.NaN : 0;
                for (int i = 1; i < es.size(); i++) {
                    double x = es.get(i).v();
                    count++;
                    double delta = x - mean;
                    mean += delta / count;
                    value += delta * (x - mean);
                }
                double var = value / count;
                o.add(new Evaluator.Elem(g.labels, op.equals("stddev") ? Math.sqrt(var) : var, t));
                return;
            }
            case "quantile": {
                double[] v = new double[es.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = es.get(i).v();
                }
                o.add(new Evaluator.Elem(g.labels, RangeFunctions.quantile(p, v), t));
                return;
            }
            case "topk":
            case "bottomk": {
                long k = p >= 9.223372036854776E18 ? Long.MAX_VALUE : (long) p;
                if (k < 1) {
                    return;
                }
                boolean top = op.equals("topk");
                List<Evaluator.Elem> sorted = new ArrayList<>(es);
                Comparator<Evaluator.Elem> cmp = (x, y) -> {
                    boolean xn = Double.isNaN(x.v());
                    boolean yn = Double.isNaN(y.v());
                    if (xn || yn) {
                        return Boolean.compare(xn, yn);
                    }
                    return top ? Double.compare(y.v(), x.v()) : Double.compare(x.v(), y.v());
                };
                sorted.sort(cmp);
                for (int i = 0; i < sorted.size() && i < k; i++) {
                    o.add(sorted.get(i));
                }
                return;
            }
            case "limitk": {
                long k = p >= 9.223372036854776E18 ? Long.MAX_VALUE : (long) p;
                for (int i = 0; i < es.size() && i < k; i++) {
                    o.add(es.get(i));
                }
                return;
            }
            case "limit_ratio": {
                double r = Math.max(-1, Math.min(1, p));
                for (Evaluator.Elem e : es) {
                    // the label set's 64-bit hash as an unsigned fraction of 2^64, in [0, 1)
                    double offset = unsignedFraction(e.labels().hash());
                    if ((r >= 0 && offset < r) || (r < 0 && offset >= 1 + r)) {
                        o.add(e);
                    }
                }
                return;
            }
            default:
                throw new UnsupportedOperationException("aggregation \"" + op + "\" is not implemented");
        }
    }
}
