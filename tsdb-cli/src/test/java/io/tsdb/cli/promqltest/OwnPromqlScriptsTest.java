package io.tsdb.cli.promqltest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The project's own PromQL scripts ({@code src/test/resources/promql/*.test}, promqltest format, written for tsdb
 * with hand-worked expected values): every eval must pass, on both backends, with none skipped. They run on every
 * build; Prometheus's scripts, which stay outside the repository, run in {@link PromqlScriptsTest} when present.
 */
class OwnPromqlScriptsTest {

    static Path ownScripts() throws URISyntaxException {
        URL url = OwnPromqlScriptsTest.class.getResource("/promql");
        assertNotNull(url, "src/test/resources/promql missing from the test class path");
        return Path.of(url.toURI());
    }

    @ParameterizedTest
    @EnumSource(PromqlTestRunner.Backend.class)
    void everyEvalOfTheProjectsOwnScriptsPasses(PromqlTestRunner.Backend backend) throws Exception {
        List<Path> files = PromqlTestRunner.scriptsIn(ownScripts());
        assertTrue(files.size() >= 8, "expected the project's PromQL scripts, found " + files);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PromqlTestRunner.Result r;
        try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            r = new PromqlTestRunner(backend, ps, true).run(files);
        }
        String log = buf.toString(StandardCharsets.UTF_8);
        System.out.print(log);
        String problems = r.outcomes().stream()
                .filter(o -> o.status() != PromqlTestRunner.Status.PASSED)
                .map(o -> o.status() + " " + o)
                .collect(Collectors.joining("\n  "));
        assertEquals(0, r.failed() + r.skipped(), r.summary() + ":\n  " + problems);
        // each file contributes evals: a script that silently parsed to nothing would show here
        for (Path f : files) {
            assertTrue(
                    r.outcomes().stream().filter(o -> o.file().equals(f)).count() >= 5,
                    f.getFileName() + " ran fewer than 5 evals:\n" + log);
        }
    }
}
