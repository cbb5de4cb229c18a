package io.tsdb.query.promql;

import io.tsdb.core.Labels;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** histogram_quantile over classic {@code le} bucket series (native histograms are not supported). */
final class Histograms {
    private Histograms() {}

    private record Bucket(double upper, double count) {}

    static Evaluator.VecVal histogramQuantile(
            Evaluator ev, Evaluator.ScalarVal q, Evaluator.VecVal in, long[] ts, Expr.Call c) {
        List<List<Evaluator.Elem>> out = new ArrayList<>(ts.length);
        for (int i = 0; i < ts.length; i++) {
            double phi = q.v()[i];
            if (Double.isNaN(phi) || phi < 0 || phi > 1) {
                ev.warn(
                        "quantile value should be between 0 and 1, got " + QueryResult.formatValue(phi),
                        c.args().get(0).pos());
            }
            Map<Labels, Labels> groupLabels = new LinkedHashMap<>();
            Map<Labels, List<Bucket>> groups = new LinkedHashMap<>();
            for (Evaluator.Elem e : in.steps().get(i)) {
                String le = e.labels().get("le");
                double upper;
                try {
                    if (le == null) {
                        throw new NumberFormatException("no le label");
                    }
                    upper = parseLe(le);
                } catch (NumberFormatException ex) {
                    ev.warn(
                            "bucket label \"le\" is missing or has a malformed value of \"" + (le == null ? "" : le)
                                    + "\" for metric name \"" + nameOf(e.labels()) + "\"",
                            c.args().get(1).pos());
                    continue;
                }
                // grouped by all labels but le (the metric name included); the output drops the name, so two
                // histograms that differ only by name collide and fail like in Prometheus
                Labels key = LabelOps.without(e.labels(), List.of("le"), false);
                groupLabels.putIfAbsent(key, LabelOps.without(e.labels(), List.of("le"), true));
                groups.computeIfAbsent(key, k -> new ArrayList<>()).add(new Bucket(upper, e.v()));
            }
            List<Evaluator.Elem> o = new ArrayList<>();
            for (Map.Entry<Labels, List<Bucket>> g : groups.entrySet()) {
                boolean[] forced = new boolean[1];
                o.add(new Evaluator.Elem(
                        groupLabels.get(g.getKey()), bucketQuantile(phi, g.getValue(), forced), ts[i]));
                if (forced[0]) {
                    ev.info(
                            "input to histogram_quantile needed to be fixed for monotonicity (see "
                                    + "https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for "
                                    + "metric name \"" + nameOf(g.getKey()) + "\"",
                            c.args().get(1).pos());
                }
            }
            out.add(o);
        }
        return new Evaluator.VecVal(out);
    }

    private static String nameOf(Labels l) {
        String n = l.get(LabelOps.NAME);
        return n == null ? "" : n;
    }

    static double parseLe(String s) {
        String t = s.trim();
        if (t.equalsIgnoreCase("+inf") || t.equalsIgnoreCase("inf")) {
            return Double.POSITIVE_INFINITY;
        }
        if (t.equalsIgnoreCase("-inf")) {
            return Double.NEGATIVE_INFINITY;
        }
        if (t.equalsIgnoreCase("nan")) {
            return Double.NaN;
        }
        return Double.parseDouble(t);
    }

    /** Prometheus's BucketQuantile; sets {@code forced[0]} when decreasing bucket counts had to be corrected. */
    static double bucketQuantile(double q, List<Bucket> in, boolean[] forced) {
        if (Double.isNaN(q)) {
            return Double.NaN;
        }
        if (q < 0) {
            return Double.NEGATIVE_INFINITY;
        }
        if (q > 1) {
            return Double.POSITIVE_INFINITY;
        }
        List<Bucket> bs = new ArrayList<>(in);
        bs.sort((a, b) -> Double.compare(a.upper(), b.upper()));
        if (bs.isEmpty() || bs.get(bs.size() - 1).upper() != Double.POSITIVE_INFINITY) {
            return Double.NaN;
        }
        // coalesce buckets with the same upper bound
        List<Bucket> co = new ArrayList<>();
        for (Bucket b : bs) {
            if (!co.isEmpty() && co.get(co.size() - 1).upper() == b.upper()) {
                Bucket last = co.remove(co.size() - 1);
                co.add(new Bucket(b.upper(), last.count() + b.count()));
            } else {
                co.add(b);
            }
        }
        double[] counts = new double[co.size()];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = co.get(i).count();
        }
        double prev = counts[0];
        for (int i = 1; i < counts.length; i++) {
            double curr = counts[i];
            if (curr == prev) {
                continue;
            }
            if (almostEqual(prev, curr, 1e-12)) {
                counts[i] = prev;
                continue;
            }
            if (curr < prev) {
                counts[i] = prev;
                forced[0] = true;
                continue;
            }
            prev = curr;
        }
        if (counts.length < 2) {
            return Double.NaN;
        }
        double observations = counts[counts.length - 1];
        if (observations == 0) {
            return Double.NaN;
        }
        double rank = q * observations;
        int b = 0;
        while (b < counts.length - 1 && counts[b] < rank) {
            b++;
        }
        if (b == counts.length - 1) {
            return co.get(counts.length - 2).upper();
        }
        if (b == 0 && co.get(0).upper() <= 0) {
            return co.get(0).upper();
        }
        double bucketStart = 0;
        double bucketEnd = co.get(b).upper();
        double count = counts[b];
        if (b > 0) {
            bucketStart = co.get(b - 1).upper();
            count -= counts[b - 1];
            rank -= counts[b - 1];
        }
        return bucketStart + (bucketEnd - bucketStart) * (rank / count);
    }

    static boolean almostEqual(double a, double b, double eps) {
        if (a == b) {
            return true;
        }
        double absSum = Math.abs(a) + Math.abs(b);
        double diff = Math.abs(a - b);
        if (a == 0 || b == 0 || absSum < Double.MIN_NORMAL) {
            return diff < eps * Double.MIN_NORMAL;
        }
        return diff / Math.min(absSum, Double.MAX_VALUE) < eps;
    }
}
