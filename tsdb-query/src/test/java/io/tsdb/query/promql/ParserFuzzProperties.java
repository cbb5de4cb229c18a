package io.tsdb.query.promql;

import io.tsdb.core.Labels;
import io.tsdb.core.Sample;
import io.tsdb.query.MemorySeriesSource;
import io.tsdb.testing.Gen;
import io.tsdb.testing.Seeds;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

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

    private static final List<String> PIECES = List.of(
            "sum",
            "by",
            "(",
            ")",
            "{",
            "}",
            "[",
            "]",
            "5m",
            ":",
            "1m",
            "rate",
            "foo",
            "bar",
            "=",
            "=~",
            "!=",
            "\"a\"",
            "'b'",
            ",",
            "+",
            "-",
            "*",
            "/",
            "^",
            "==",
            "bool",
            "on",
            "ignoring",
            "group_left",
            "offset",
            "@",
            "start()",
            "1",
            "0x1f",
            "NaN",
            "Inf",
            "and",
            "or",
            "unless",
            "topk",
            "count_values",
            "label_replace",
            "`x`",
            "#c\n",
            " ",
            "1h30m",
            ".5",
            "without",
            "@ end()",
            "histogram_quantile",
            "\"",
            "!",
            "~",
            "$",
            "9e9",
            "atan2",
            "-1");

    /** 1..14 grammar pieces joined by spaces. */
    static String query(Gen g) {
        return String.join(" ", g.list(1, 14, () -> g.pick(PIECES)));
    }

    @Test
    void parseFailsOnlyWithParseExceptions() {
        Seeds.check(2000, g -> parseFailsOnlyWithParseExceptions(query(g)));
    }

    private static void parseFailsOnlyWithParseExceptions(String q) {
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
    @Test
    void wellTypedQueriesEvaluateOrFailCleanly() {
        Seeds.check(400, g -> wellTypedQueriesEvaluateOrFailCleanly(vector(g, 3)));
    }

    private static void wellTypedQueriesEvaluateOrFailCleanly(String q) {
        try {
            ENGINE.instantQuery(q, Instant.ofEpochSecond(300));
            ENGINE.rangeQuery(q, Instant.ofEpochSecond(0), Instant.ofEpochSecond(600), Duration.ofSeconds(60));
        } catch (PromqlEvalException ex) {
            // documented failures (bad matching, duplicate label sets)
        }
    }

    static String scalar(Gen g, int depth) {
        String leaf = g.oneOf("1", "0.5", "time()", "NaN", "-2", "scalar(foo{a=\"a\"})");
        if (depth == 0) {
            return leaf;
        }
        return switch (g.nextInt(3)) {
            case 0 -> leaf;
            case 1 -> "scalar(" + vector(g, depth - 1) + ")";
            default -> "(" + scalar(g, depth - 1) + " " + g.oneOf("+", "-", "*", "/", "%", "^", "> bool") + " 2)";
        };
    }

    static String vector(Gen g, int depth) {
        String leafChoice = g.oneOf(
                "foo",
                "bar",
                "foo{a=\"a\"}",
                "{__name__=~\"foo|bar\"}",
                "foo offset 1m",
                "bar @ 100",
                "vector(1)",
                "nosuch",
                "foo{a!~\"b.*\"}");
        if (depth == 0) {
            return leafChoice;
        }
        Function<Gen, String> sub = x -> vector(x, depth - 1);
        return switch (g.nextInt(13)) {
            case 0 -> leafChoice;
            case 1 ->
                g.oneOf(
                                "rate",
                                "irate",
                                "delta",
                                "deriv",
                                "changes",
                                "resets",
                                "avg_over_time",
                                "stddev_over_time",
                                "last_over_time",
                                "absent_over_time",
                                "present_over_time")
                        + "(" + g.oneOf("foo", "bar", "foo{a=\"b\"}") + "[2m])";
            case 2 ->
                g.oneOf("sum", "avg", "count", "min", "max", "group", "stddev") + " by (a) (" + sub.apply(g) + ")";
            case 3 -> {
                String x = sub.apply(g);
                String f = g.oneOf("abs", "ceil", "sort", "sort_desc", "timestamp", "absent", "-");
                yield f.equals("-") ? "-(" + x + ")" : f + "(" + x + ")";
            }
            case 4 -> {
                String x = sub.apply(g);
                String k = scalar(g, depth - 1);
                yield g.oneOf("topk", "bottomk", "quantile", "limitk") + "(" + k + ", " + x + ")";
            }
            case 5 -> {
                String x = sub.apply(g);
                String y = sub.apply(g);
                yield "(" + x + " "
                        + g.oneOf(
                                "+",
                                "and",
                                "or",
                                "unless",
                                "> bool",
                                "/ on(a)",
                                "* ignoring(le) group_left()",
                                "== on(a) group_right(le)",
                                "<")
                        + " " + y + ")";
            }
            case 6 -> "(" + sub.apply(g) + " * " + scalar(g, depth - 1) + ")";
            case 7 -> "max_over_time((" + sub.apply(g) + ")[5m:1m])";
            case 8 -> "label_replace(" + sub.apply(g) + ", \"b\", \"$1\", \"a\", \"(.*)\")";
            case 9 -> "histogram_quantile(0.9, " + sub.apply(g) + ")";
            case 10 -> "count_values(\"v\", " + sub.apply(g) + ")";
            case 11 -> "clamp(" + sub.apply(g) + ", 1, 10)";
            default -> "round(" + sub.apply(g) + ", 0.5)";
        };
    }
}
