package io.tsdb.query.promql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.query.Matcher;
import java.util.List;
import org.junit.jupiter.api.Test;

class ParserTest {

    /** Renders the tree fully parenthesised, to check precedence and associativity. */
    static String show(Expr e) {
        if (e instanceof Expr.NumberLiteral n) {
            return QueryResult.formatValue(n.value());
        }
        if (e instanceof Expr.StringLiteral s) {
            return "\"" + s.value() + "\"";
        }
        if (e instanceof Expr.Paren p) {
            return show(p.expr());
        }
        if (e instanceof Expr.Unary u) {
            return "(-" + show(u.expr()) + ")";
        }
        if (e instanceof Expr.Binary b) {
            return "(" + show(b.lhs()) + " " + Parser.opText(b.op()) + (b.returnBool() ? " bool" : "") + " "
                    + show(b.rhs()) + ")";
        }
        if (e instanceof Expr.VectorSelector v) {
            return v.name() != null ? v.name() : v.matchers().toString();
        }
        if (e instanceof Expr.Call c) {
            StringBuilder sb = new StringBuilder(c.function().name()).append('(');
            for (int i = 0; i < c.args().size(); i++) {
                sb.append(i > 0 ? ", " : "").append(show(c.args().get(i)));
            }
            return sb.append(')').toString();
        }
        if (e instanceof Expr.MatrixSelector m) {
            return show(m.selector()) + "[" + m.rangeMs() + "ms]";
        }
        if (e instanceof Expr.Aggregate a) {
            return a.op() + (a.without() ? " without" : " by") + a.grouping() + "("
                    + (a.param() == null ? "" : show(a.param()) + ", ") + show(a.expr()) + ")";
        }
        return e.toString();
    }

    private static String p(String q) {
        return show(Parser.parse(q));
    }

    @Test
    void arithmeticPrecedenceAndAssociativity() {
        assertEquals("(1 + (2 * 3))", p("1 + 2 * 3"));
        assertEquals("((1 - 2) - 3)", p("1 - 2 - 3"));
        assertEquals("(2 ^ (3 ^ 2))", p("2 ^ 3 ^ 2"));
        assertEquals("(a % (2 ^ (3 ^ 2)))", p("a % 2 ^ 3 ^ 2"));
        assertEquals("((-(2 ^ -1)) * 3)", p("-2^---1*3"));
        // unary minus binds looser than ^ but tighter than *
        assertEquals("((-(a ^ 2)) * 3)", p("-a^2*3"));
        assertEquals("((a or (b and c)) or d)", p("a or b and c or d"));
        assertEquals("((a + b) > bool (c * d))", p("a + b > bool c * d"));
        assertEquals("((a unless b) and c)", p("a unless b and c"));
        assertEquals("(a atan2 b)", p("a atan2 b"));
    }

    @Test
    void unaryMinusOnLiteralsIsFolded() {
        Expr e = Parser.parse("- - - 1");
        assertInstanceOf(Expr.NumberLiteral.class, e);
        assertEquals(-1.0, ((Expr.NumberLiteral) e).value());
    }

    @Test
    void numbersAndDurations() {
        assertEquals(255.0, ((Expr.NumberLiteral) Parser.parse("0xff")).value());
        assertEquals(12340000.0, ((Expr.NumberLiteral) Parser.parse("12.34e6")).value());
        assertTrue(Double.isNaN(((Expr.NumberLiteral) Parser.parse("nan")).value()));
        assertEquals(Double.POSITIVE_INFINITY, ((Expr.NumberLiteral) Parser.parse("+Inf")).value());
        assertEquals(5400.0, ((Expr.NumberLiteral) Parser.parse("1h30m")).value());
        Expr.MatrixSelector m = (Expr.MatrixSelector)
                ((Expr.Call) Parser.parse("rate(x[1h30m])")).args().get(0);
        assertEquals(5_400_000L, m.rangeMs());
        Expr.MatrixSelector plain = (Expr.MatrixSelector)
                ((Expr.Call) Parser.parse("rate(x[10])")).args().get(0);
        assertEquals(10_000L, plain.rangeMs());
    }

    @Test
    void stringsWithEscapesAndBackticks() {
        assertEquals("a\"b\n", ((Expr.StringLiteral) Parser.parse("\"a\\\"b\\n\"")).value());
        assertEquals("a\\n", ((Expr.StringLiteral) Parser.parse("`a\\n`")).value());
        assertEquals("\u00e9", ((Expr.StringLiteral) Parser.parse("'\\u00e9'")).value());
        assertEquals("\u00e9", ((Expr.StringLiteral) Parser.parse("\"\\xc3\\xa9\"")).value());
    }

    @Test
    void selectorsOffsetAtAndSubqueries() {
        Expr.VectorSelector v = (Expr.VectorSelector) Parser.parse("foo{a=\"b\", c!~\"d.*\",} offset -5m @ 100");
        assertEquals(
                List.of(Matcher.equal("__name__", "foo"), Matcher.equal("a", "b"), Matcher.notRegex("c", "d.*")),
                v.matchers());
        assertEquals(-300_000L, v.offsetMs());
        assertEquals(Expr.At.TIMESTAMP, v.at());
        assertEquals(100_000L, v.atMs());
        Expr.VectorSelector s = (Expr.VectorSelector) Parser.parse("foo @ start()");
        assertEquals(Expr.At.START, s.at());
        Expr.Call c = (Expr.Call) Parser.parse("max_over_time(rate(x[5m])[30m:1m] offset 1m)");
        Expr.Subquery sq = (Expr.Subquery) c.args().get(0);
        assertEquals(1_800_000L, sq.rangeMs());
        assertEquals(60_000L, sq.stepMs());
        assertEquals(60_000L, sq.offsetMs());
        Expr.Subquery noStep = (Expr.Subquery)
                ((Expr.Call) Parser.parse("min_over_time(x[5m:])")).args().get(0);
        assertEquals(0L, noStep.stepMs());
        Expr.VectorSelector colon = (Expr.VectorSelector) Parser.parse("node:cpu:rate5m");
        assertEquals("node:cpu:rate5m", colon.name());
    }

    @Test
    void aggregationsWithGroupingBeforeOrAfterAndParameters() {
        assertEquals("sum by[job](x)", p("sum by (job) (x)"));
        assertEquals("sum by[job](x)", p("SUM(x) BY (job)"));
        assertEquals("topk without[](3, x)", p("topk without() (3, x)"));
        assertEquals("count_values by[](\"v\", x)", p("count_values(\"v\", x)"));
        assertEquals("quantile by[a, b](0.9, x)", p("quantile by (a, b,) (0.9, x)"));
    }

    @Test
    void vectorMatching() {
        Expr.Binary b = (Expr.Binary) Parser.parse("a * on(x, y) group_left(z) b");
        assertEquals(Expr.Card.MANY_TO_ONE, b.matching().card());
        assertEquals(List.of("x", "y"), b.matching().labels());
        assertTrue(b.matching().on());
        assertEquals(List.of("z"), b.matching().include());
        Expr.Binary r = (Expr.Binary) Parser.parse("a / ignoring(x) group_right b");
        assertEquals(Expr.Card.ONE_TO_MANY, r.matching().card());
        Expr.Binary s = (Expr.Binary) Parser.parse("a and on() b");
        assertEquals(Expr.Card.MANY_TO_MANY, s.matching().card());
    }

    private static PromqlParseException error(String q) {
        return assertThrows(PromqlParseException.class, () -> Parser.parse(q));
    }

    @Test
    void errorsCarryPositionAndWhatWasExpected() {
        PromqlParseException e = error("sum(rate(x[5m])");
        assertEquals(15, e.position());
        assertEquals(1, e.line());
        assertEquals(16, e.column());
        assertTrue(e.getMessage().contains("expected \",\" or \")\""), e.getMessage());

        e = error("foo{a=\"b\"");
        assertTrue(e.getMessage().contains("expected \",\" or \"}\""), e.getMessage());

        e = error("rate(x)");
        assertEquals(5, e.position());
        assertTrue(
                e.getMessage()
                        .contains("expected type range vector in call to function \"rate\", got instant " + "vector"),
                e.getMessage());

        e = error("1 > 2");
        assertTrue(e.getMessage().contains("comparisons between scalars must use BOOL modifier"), e.getMessage());

        e = error("a + on(x) 1");
        assertTrue(e.getMessage().contains("vector matching only allowed between instant vectors"));

        e = error("nosuchfn(x)");
        assertTrue(e.getMessage().contains("unknown function with name \"nosuchfn\""));

        e = error("{a=\"\"}");
        assertTrue(e.getMessage().contains("at least one non-empty matcher"));

        e = error("x[5m] offset 1m offset 2m");
        assertTrue(e.getMessage().contains("offset may not be set multiple times"));

        e = error("1 +\n  ");
        assertEquals(2, e.line());
        assertTrue(e.getMessage().contains("unexpected end of input"));

        e = error("foo{a=~\"(\"}");
        assertTrue(e.getMessage().contains("invalid regular expression \"(\""), e.getMessage());

        e = error("(1 + 2");
        assertTrue(e.getMessage().contains("expected \")\""), e.getMessage());

        e = error("sum(x) by (a) by (b)");
        assertTrue(e.getMessage().contains("only contain one grouping clause"));

        e = error("\"unterminated");
        assertTrue(e.getMessage().contains("unterminated quoted string"));

        e = error("a and 1");
        assertTrue(e.getMessage().contains("set operator \"and\" not allowed in binary scalar expression"));

        e = error("1 + foo[5m]");
        assertTrue(e.getMessage().contains("binary expression must contain only scalar and instant vector types"));
    }
}
