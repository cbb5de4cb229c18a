package io.tsdb.cli.query;

import io.tsdb.core.StorageImpl;
import io.tsdb.query.promql.PromqlEngine;
import io.tsdb.query.promql.QueryResult;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/** Runs PromQL through the query module and prints results readably. */
public final class QuerySupport {
    private QuerySupport() {}

    /** The demo's queries, evaluated at {@code at}; prints the first rows and the latency of each. */
    public static void demoQueries(StorageImpl store, Instant at, Duration step, PrintWriter o) {
        PromqlEngine engine = new PromqlEngine(store);
        List<String> instant = List.of(
                "sum by (status) (rate(http_requests_total[5m]))",
                "rate(http_requests_total{path=~\"/api/.+\", status=~\"5..\"}[5m])",
                "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
                "topk(3, sum by (instance) (rate(node_cpu_seconds_total{mode!=\"idle\"}[5m])))",
                "count by (job) (up == 1)");
        for (String q : instant) {
            long t0 = System.nanoTime();
            QueryResult r;
            try {
                r = engine.instantQuery(q, at);
            } catch (RuntimeException e) {
                o.printf(Locale.ROOT, "  %s%n    error: %s%n", q, e.getMessage());
                continue;
            }
            double ms = (System.nanoTime() - t0) / 1e6;
            o.printf(Locale.ROOT, "  %s   [%.1f ms]%n", q, ms);
            printResult(r, o, 5, "    ");
        }
        Instant start = at.minus(Duration.ofHours(1));
        String rq = "sum(rate(http_requests_total[5m]))";
        long t0 = System.nanoTime();
        try {
            QueryResult r = engine.rangeQuery(rq, start, at, Duration.ofMinutes(1));
            double ms = (System.nanoTime() - t0) / 1e6;
            o.printf(Locale.ROOT, "  range %s, last 1 h, step 1 m   [%.1f ms]%n", rq, ms);
            printResult(r, o, 3, "    ");
        } catch (RuntimeException e) {
            o.printf(Locale.ROOT, "  range %s%n    error: %s%n", rq, e.getMessage());
        }
        o.flush();
    }

    /** Prints up to {@code maxRows} rows of a result (a matrix shows its first and last points). */
    public static void printResult(QueryResult r, PrintWriter o, int maxRows, String indent) {
        QueryResult.Value v = r.value();
        if (v instanceof QueryResult.Vector vec) {
            List<QueryResult.VectorSample> rows = vec.samples();
            for (int i = 0; i < Math.min(maxRows, rows.size()); i++) {
                QueryResult.VectorSample s = rows.get(i);
                o.printf(Locale.ROOT, "%s%s => %s%n", indent, s.labels(), QueryResult.formatValue(s.value()));
            }
            if (rows.size() > maxRows) {
                o.printf(Locale.ROOT, "%s... %d rows in all%n", indent, rows.size());
            } else if (rows.isEmpty()) {
                o.printf("%s(empty vector)%n", indent);
            }
        } else if (v instanceof QueryResult.Matrix m) {
            List<QueryResult.SeriesPoints> rows = m.series();
            for (int i = 0; i < Math.min(maxRows, rows.size()); i++) {
                QueryResult.SeriesPoints s = rows.get(i);
                List<QueryResult.Point> p = s.points();
                if (p.isEmpty()) {
                    o.printf("%s%s => (no points)%n", indent, s.labels());
                } else {
                    o.printf(
                            Locale.ROOT,
                            "%s%s => %d points, first %s @%s, last %s @%s%n",
                            indent,
                            s.labels(),
                            p.size(),
                            QueryResult.formatValue(p.get(0).value()),
                            java.time.Instant.ofEpochMilli(p.get(0).timestamp()),
                            QueryResult.formatValue(p.get(p.size() - 1).value()),
                            java.time.Instant.ofEpochMilli(p.get(p.size() - 1).timestamp()));
                }
            }
            if (rows.size() > maxRows) {
                o.printf(Locale.ROOT, "%s... %d series in all%n", indent, rows.size());
            } else if (rows.isEmpty()) {
                o.printf("%s(empty matrix)%n", indent);
            }
        } else {
            o.printf("%s%s%n", indent, v);
        }
        for (String w : r.warnings()) {
            o.printf("%swarning: %s%n", indent, w);
        }
    }
    /** Prints a whole result (up to {@code limit} series or rows), one line per sample or point. */
    public static void printFull(QueryResult r, PrintWriter o, int limit) {
        QueryResult.Value v = r.value();
        if (v instanceof QueryResult.Vector vec) {
            List<QueryResult.VectorSample> rows = vec.samples();
            for (int i = 0; i < Math.min(limit, rows.size()); i++) {
                QueryResult.VectorSample s = rows.get(i);
                o.printf(
                        Locale.ROOT,
                        "%s => %s @%s%n",
                        s.labels(),
                        QueryResult.formatValue(s.value()),
                        ts(s.timestamp()));
            }
            o.printf(
                    Locale.ROOT,
                    "# vector: %d rows%s%n",
                    rows.size(),
                    rows.size() > limit ? " (" + limit + " shown)" : "");
        } else if (v instanceof QueryResult.Matrix m) {
            List<QueryResult.SeriesPoints> rows = m.series();
            for (int i = 0; i < Math.min(limit, rows.size()); i++) {
                QueryResult.SeriesPoints s = rows.get(i);
                o.printf("%s =>%n", s.labels());
                for (QueryResult.Point p : s.points()) {
                    o.printf(Locale.ROOT, "  %s @%s%n", QueryResult.formatValue(p.value()), ts(p.timestamp()));
                }
            }
            o.printf(
                    Locale.ROOT,
                    "# matrix: %d series%s%n",
                    rows.size(),
                    rows.size() > limit ? " (" + limit + " shown)" : "");
        } else {
            o.println(v);
        }
        for (String w : r.warnings()) {
            o.println("# warning: " + w);
        }
    }

    /** Unix seconds with milliseconds, as Prometheus prints them. */
    static String ts(long millis) {
        return java.math.BigDecimal.valueOf(millis, 3).toPlainString();
    }
}
