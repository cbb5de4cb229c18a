package io.tsdb.query.promql;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.query.MemorySeriesSource;
import io.tsdb.testing.Fuzz;
import io.tsdb.testing.Gen;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Mutational fuzzing of the PromQL lexer and parser ({@link Parser#parse}, {@link Parser#parseSelector}):
 * valid queries from {@link ParserFuzzProperties}' grammar, damaged as UTF-8 bytes (bit flips,
 * overwrites, truncation, splices) and as text (a grammar piece repeated up to 20,000 times, for
 * deep nesting and long operator chains), fail only with {@link PromqlParseException} at a
 * position inside the query, within {@link Fuzz#PER_INPUT}. Found inputs: {@code fuzz-corpus/promql/}
 * (UTF-8 text).
 */
class ParserMutationFuzzTest {
    static final String DECODER = "promql";
    static final List<Class<? extends Throwable>> ALLOWED = List.of(PromqlParseException.class);

    private static final PromqlEngine ENGINE =
            new PromqlEngine(new MemorySeriesSource(), PromqlEngine.Options.defaults());

    private static final List<String> REPEATABLE = List.of(
            "(",
            "-",
            "+",
            "sum(",
            "rate(",
            "{",
            "[",
            "abs(",
            "- -",
            "1 + ",
            "foo or ",
            "\"",
            "(foo",
            "[5m:1m]",
            "offset 1m ",
            "@ 1 ",
            "max_over_time((",
            "label_replace(",
            "sum by (a) (",
            "topk(1, ",
            "1 ^ ",
            "!",
            "'",
            "`",
            "#",
            "\\",
            "0x",
            "1e",
            ".");

    static byte[] valid(Gen g) {
        String q = g.nextBoolean() ? ParserFuzzProperties.vector(g, g.intBetween(0, 4)) : ParserFuzzProperties.query(g);
        if (g.nextInt(3) == 0) {
            // a piece repeated many times at a random place (deep nesting, long chains)
            String piece = g.pick(REPEATABLE);
            int times = g.nextBoolean() ? g.intBetween(1, 200) : g.intBetween(200, 20_000);
            int at = g.nextInt(q.length() + 1);
            q = q.substring(0, at) + piece.repeat(times) + q.substring(at);
        }
        return q.getBytes(StandardCharsets.UTF_8);
    }

    static void parse(byte[] in) {
        String q = new String(in, StandardCharsets.UTF_8);
        try {
            assertNotNull(Parser.parse(q));
        } catch (PromqlParseException e) {
            assertTrue(
                    e.position() >= 0 && e.position() <= q.length(), "position " + e.position() + " outside the query");
            throw e;
        }
    }

    static void parseSelector(byte[] in) {
        String q = new String(in, StandardCharsets.UTF_8);
        try {
            assertNotNull(Parser.parseSelector(q));
        } catch (PromqlParseException e) {
            assertTrue(
                    e.position() >= 0 && e.position() <= q.length(), "position " + e.position() + " outside the query");
            throw e;
        }
    }

    @Test
    void damagedQueriesFailOnlyWithParseExceptions() {
        Fuzz.run(DECODER, 3000, ParserMutationFuzzTest::valid, null, ParserMutationFuzzTest::parse, ALLOWED);
    }

    @Test
    void damagedSelectorsFailOnlyWithParseExceptions() {
        Fuzz.run(
                DECODER,
                1000,
                g -> g.oneOf("foo", "foo{a=\"b\"}", "{__name__=~\"foo|bar\", a!=\"\"}", "up{job!~\"x.*\"}")
                        .getBytes(StandardCharsets.UTF_8),
                null,
                ParserMutationFuzzTest::parseSelector,
                ALLOWED);
    }

    @Test
    void nestingOrChainsBeyondTheLimitAreParseErrorsNotStackOverflows() {
        int n = Parser.MAX_DEPTH / 2
                - 1; // a right-associative ^ and a subquery's call + parentheses take two levels each
        for (String ok : List.of(
                "(".repeat(n) + "1" + ")".repeat(n),
                "-".repeat(n) + "1",
                "abs(".repeat(n) + "foo" + ")".repeat(n),
                "1" + " + 1".repeat(n),
                "foo" + " or foo".repeat(n),
                "2 ^ ".repeat(n) + "1",
                "max_over_time((".repeat(n / 2) + "foo" + ")[5m:1m])".repeat(n / 2))) {
            assertNotNull(Parser.parse(ok));
            ENGINE.instantQuery(
                    ok, Instant.ofEpochSecond(60)); // evaluation recurses as deep: no StackOverflowError either
        }
        for (String q : List.of(
                "(".repeat(100_000) + "1" + ")".repeat(100_000),
                "-".repeat(50_000) + "1",
                "abs(".repeat(10_000) + "foo" + ")".repeat(10_000),
                "1 ^ ".repeat(10_000) + "1",
                "1" + " + 1".repeat(20_000),
                "foo" + " or foo".repeat(20_000),
                "max_over_time((".repeat(2_000) + "foo" + ")[5m:1m])".repeat(2_000))) {
            PromqlParseException e = assertThrows(PromqlParseException.class, () -> Parser.parse(q));
            assertTrue(e.getMessage().contains("nested too deeply"), e.getMessage());
        }
    }

    @TestFactory
    Stream<DynamicTest> corpus() {
        return Fuzz.corpus(getClass(), DECODER, ParserMutationFuzzTest::parse, ALLOWED);
    }
}
