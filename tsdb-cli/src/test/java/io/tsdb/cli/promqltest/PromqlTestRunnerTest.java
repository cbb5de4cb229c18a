package io.tsdb.cli.promqltest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PromqlTestRunnerTest {

    private static final String SCRIPT = String.join(
            "\n",
            "# a comment",
            "load 1m",
            "  m{a=\"1\"} 0+10x4 _ stale 7",
            "  m{a=\"2\"} 1 _x2 4",
            "  h{a=\"3\"} {{schema:0 sum:1 count:1}}x3",
            "",
            "eval instant at 2m m",
            "  m{a=\"1\"} 20",
            "  m{a=\"2\"} 1",
            "",
            "eval instant at 2m m{a=\"1\"} * 2",
            "  {a=\"1\"} 41",
            "",
            "eval range from 0 to 3m step 1m m{a=\"2\"}",
            "  m{a=\"2\"} 1 1 1 4",
            "",
            "eval instant at 0m sort_desc(m)",
            "  expect ordered",
            "  m{a=\"2\"} 1",
            "  m{a=\"1\"} 0",
            "",
            "eval instant at 1m h",
            "  h{a=\"3\"} 1",
            "",
            "eval instant at 1m topk(NaN, m)",
            "  expect fail msg: Parameter value is NaN",
            "",
            "eval instant at 6m m{a=\"1\"}",
            "",
            "eval instant at 0m 1 + 1",
            "  2",
            "",
            "load_with_nhcb 1m",
            "  lat_bucket{le=\"1\"} 1",
            "  lat_bucket{le=\"+Inf\"} 2",
            "",
            "eval instant at 0m histogram_quantile(0.5, lat_bucket)",
            "  {} 1",
            "",
            "eval instant at 0m histogram_quantile(0.5, lat)",
            "  {} 1",
            "",
            "clear",
            "",
            "eval instant at 0m m",
            "");

    @ParameterizedTest
    @EnumSource(PromqlTestRunner.Backend.class)
    void countsPassedFailedAndSkippedWithReasons(PromqlTestRunner.Backend backend, @TempDir Path dir) throws Exception {
        Path f = dir.resolve("mini.test");
        Files.writeString(f, SCRIPT, StandardCharsets.UTF_8);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PromqlTestRunner runner =
                new PromqlTestRunner(backend, new PrintStream(buf, true, StandardCharsets.UTF_8), false);
        PromqlTestRunner.Result r = runner.run(List.of(f));
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(8, r.passed(), out);
        assertEquals(1, r.failed(), out);
        assertEquals(2, r.skipped(), out);
        assertTrue(
                r.failures().get(0).reason().contains("expected 41, got 40"),
                r.failures().get(0).reason());
        assertTrue(
                r.skips().get(0).reason().contains("native histogram"),
                r.skips().get(0).reason());
        assertTrue(
                r.skips().get(1).reason().contains("native histogram series lat{}"),
                r.skips().get(1).reason());
        assertTrue(out.contains("promql evals: 8 passed, 1 failed, 2 skipped"), out);
        assertTrue(out.contains("FAIL mini.test:11"), out);
    }

    /** Writes {@code script} to {@code name} and runs it, returning the one outcome (the parse failure). */
    private static PromqlTestRunner.Outcome parseFailure(Path dir, String name, String script, StringBuilder printed)
            throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, script, StandardCharsets.UTF_8);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PromqlTestRunner.Result r = new PromqlTestRunner(
                        PromqlTestRunner.Backend.MEMORY, new PrintStream(buf, true, StandardCharsets.UTF_8), false)
                .run(List.of(f));
        printed.append(buf.toString(StandardCharsets.UTF_8));
        assertEquals(1, r.failed(), printed.toString());
        assertEquals(0, r.passed() + r.skipped(), printed.toString());
        return r.failures().get(0);
    }

    @Test
    void aScriptThatDoesNotParseIsReportedAtItsLineAndFile(@TempDir Path dir) throws Exception {
        StringBuilder out = new StringBuilder();
        // line 6 holds a series value that is not a number
        PromqlTestRunner.Outcome o = parseFailure(
                dir,
                "bad.test",
                String.join(
                        "\n",
                        "# comment",
                        "load 1m",
                        "  m{a=\"1\"} 1 2 3",
                        "",
                        "load 1m",
                        "  m{a=\"2\"} 1 two 3",
                        "",
                        "eval instant at 0m m",
                        "  m{a=\"1\"} 1",
                        ""),
                out);
        assertEquals(6, o.line(), o.toString());
        assertTrue(o.reason().contains("line 6: invalid series value \"two\""), o.reason());
        assertTrue(o.reason().contains(dir.resolve("bad.test").toString()), o.reason());
        assertTrue(out.toString().contains("FAIL bad.test:6: "), out.toString());
    }

    @Test
    void errorsRaisedInsideAHelperStillNameTheLine(@TempDir Path dir) throws Exception {
        StringBuilder out = new StringBuilder();
        // line 4: an expected string that is not a valid string literal (the PromQL lexer rejects it)
        PromqlTestRunner.Outcome str = parseFailure(
                dir,
                "string.test",
                String.join(
                        "\n",
                        "eval instant at 0m \"a\"",
                        "  expect string \"a\"",
                        "",
                        "eval instant at 0m \"b\"",
                        "  expect string \"b\\q\"",
                        ""),
                out);
        assertEquals(5, str.line(), str.toString());
        // line 3: a repetition count that overflows an int
        PromqlTestRunner.Outcome rep = parseFailure(
                dir,
                "count.test",
                String.join("\n", "load 1m", "  m{a=\"1\"} 1", "  m{a=\"2\"} _x99999999999", ""),
                out);
        assertEquals(3, rep.line(), rep.toString());
        assertTrue(rep.reason().contains("line 3: "), rep.reason());
        // line 2: an unknown command after a blank first line
        PromqlTestRunner.Outcome cmd = parseFailure(dir, "cmd.test", "\nevaluate instant at 0m 1\n", out);
        assertEquals(2, cmd.line(), cmd.toString());
    }
}
