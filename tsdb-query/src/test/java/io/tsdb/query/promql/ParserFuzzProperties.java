package io.tsdb.query.promql;

import io.tsdb.core.Labels;
import io.tsdb.core.Sample;
import io.tsdb.query.MemorySeriesSource;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Whatever the input, the parser either returns a tree or throws PromqlParseException, and evaluating what parses
 * fails, if at all, only with the engine's documented exceptions (never a ClassCastException or the like).
 */
class ParserFuzzProperties {

    private static final PromqlEngine ENGINE;

    static {
        MemorySeriesSource src = new MemorySeriesSource();
        for (String name : List.of("foo", "bar")) {
            for (String a : List.of("a", "b")) {
                List<Sample> s = new java.util.ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    s.add(new Sample(i * 15_000L, i * (name.equals("foo") ? 1 : 2)));
                }
                src.add(Labels.of("__name__", name, "a", a, "le", a.equals("a") ? "1" : "+Inf"), s);
            }
        }
        ENGINE = new PromqlEngine(src, PromqlEngine.Options.defaults().withTimeout(Duration.ofSeconds(10)));
    }

    private static final List<String> PIECES = List.of("sum", "by", "(", ")", "{", "}", "[", "]", "5m", ":", "1m",
            "rate", "foo", "bar", "=", "=~", "!=", "\"a\"", "'b'", ",", "+", "-", "*", "/", "^", "==", "bool", "on",
            "ignoring", "group_left", "offset", "@", "start()", "1", "0x1f", "NaN", "Inf", "and", "or", "unless",
            "topk", "count_values", "label_replace", "`x`", "#c\n", " ", "1h30m", ".5", "without", "@ end()",
            "histogram_quantile", "\"", "!", "~", "$", "9e9", "atan2", "-1");

    @Provide
    Arbitrary<String> queries() {
        return Arbitraries.of(PIECES).list().ofMinSize(1).ofMaxSize(14).map(l -> String.join(" ", l));
    }

    @Property(tries = 2000)
    void parseFailsOnlyWithParseExceptions(@ForAll("queries") String q) {
        Expr e;
        try {
            e = Parser.parse(q);
        } catch (PromqlParseException ex) {
            if (ex.position() < 0 || ex.position() > q.length()) {
                throw new AssertionError("position " + ex.position() + " outside query " + q);
            }
            return;
        }
        try {
            ENGINE.instantQuery(q, Instant.ofEpochSecond(300));
            if (e.type() == ValueType.SCALAR || e.type() == ValueType.VECTOR) {
                ENGINE.rangeQuery(q, Instant.ofEpochSecond(0), Instant.ofEpochSecond(600), Duration.ofSeconds(60));
            }
        } catch (PromqlEvalException | UnsupportedOperationException ex) {
            // documented failures (bad matching, duplicate label sets, native histograms)
        }
    }

    /** Random well-typed queries built from the grammar, evaluated as instant and range queries. */
    @Property(tries = 400)
    void wellTypedQueriesEvaluateOrFailCleanly(@ForAll("vectorExprs") String q) {
        try {
            ENGINE.instantQuery(q, Instant.ofEpochSecond(300));
            ENGINE.rangeQuery(q, Instant.ofEpochSecond(0), Instant.ofEpochSecond(600), Duration.ofSeconds(60));
        } catch (PromqlEvalException ex) {
            // documented failures (bad matching, duplicate label sets)
        }
    }

    @Provide
    Arbitrary<String> vectorExprs() {
        return vector(3);
    }

    private static Arbitrary<String> scalar(int depth) {
        Arbitrary<String> leaf = Arbitraries.of("1", "0.5", "time()", "NaN", "-2", "scalar(foo{a=\"a\"})");
        if (depth == 0) {
            return leaf;
        }
        return Arbitraries.oneOf(leaf, vector(depth - 1).map(v -> "scalar(" + v + ")"),
                Arbitraries.of("+", "-", "*", "/", "%", "^", "> bool").flatMap(op -> scalar(depth - 1)
                        .map(x -> "(" + x + " " + op + " 2)")));
    }

    private static Arbitrary<String> vector(int depth) {
        Arbitrary<String> leaf = Arbitraries.of("foo", "bar", "foo{a=\"a\"}", "{__name__=~\"foo|bar\"}",
                "foo offset 1m", "bar @ 100", "vector(1)", "nosuch", "foo{a!~\"b.*\"}");
        if (depth == 0) {
            return leaf;
        }
        Arbitrary<String> sub = vector(depth - 1);
        Arbitrary<String> sel = Arbitraries.of("foo", "bar", "foo{a=\"b\"}");
        return Arbitraries.oneOf(leaf,
                sel.flatMap(x -> Arbitraries.of("rate", "irate", "delta", "deriv", "changes", "resets",
                        "avg_over_time", "stddev_over_time", "last_over_time", "absent_over_time", "present_over_time")
                        .map(f -> f + "(" + x + "[2m])")),
                sub.flatMap(x -> Arbitraries.of("sum", "avg", "count", "min", "max", "group", "stddev")
                        .map(a -> a + " by (a) (" + x + ")")),
                sub.flatMap(x -> Arbitraries.of("abs", "ceil", "sort", "sort_desc", "timestamp", "absent", "-")
                        .map(f -> f.equals("-") ? "-(" + x + ")" : f + "(" + x + ")")),
                sub.flatMap(x -> scalar(depth - 1).flatMap(k -> Arbitraries.of("topk", "bottomk", "quantile", "limitk")
                        .map(a -> a + "(" + k + ", " + x + ")"))),
                sub.flatMap(x -> sub.flatMap(y -> Arbitraries.of("+", "and", "or", "unless", "> bool", "/ on(a)",
                        "* ignoring(le) group_left()", "== on(a) group_right(le)", "<")
                        .map(op -> "(" + x + " " + op + " " + y + ")"))),
                sub.flatMap(x -> scalar(depth - 1).map(k -> "(" + x + " * " + k + ")")),
                sub.map(x -> "max_over_time((" + x + ")[5m:1m])"),
                sub.map(x -> "label_replace(" + x + ", \"b\", \"$1\", \"a\", \"(.*)\")"),
                sub.map(x -> "histogram_quantile(0.9, " + x + ")"),
                sub.map(x -> "count_values(\"v\", " + x + ")"),
                sub.map(x -> "clamp(" + x + ", 1, 10)"),
                sub.map(x -> "round(" + x + ", 0.5)"));
    }
}
