package io.tsdb.cli.promqltest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The conformance suite: runs Prometheus's promqltest scripts from {@code ../shared/promql} (or
 * {@code -Dtsdb.promql.dir=DIR}) and fails if fewer evals pass than the record in {@code promql-passed-min.txt}.
 * Those scripts are Prometheus's (Apache 2.0) and stay outside the repository, so Maven runs this class only in the
 * {@code promql-conformance} profile of tsdb-cli's pom, which switches itself on when {@code ../shared/promql}
 * exists and passes its path as {@code tsdb.promql.dir}. Once asked to run, it fails, naming where it looked, when
 * no scripts are found. The project's own scripts run always, in {@link OwnPromqlScriptsTest}.
 * {@code -Dtsdb.promql.backend=memory} runs on the in-memory source instead of StorageImpl.
 */
class PromqlScriptsTest {

    static Path findScripts() {
        String prop = System.getProperty("tsdb.promql.dir");
        if (prop != null && !prop.isBlank()) {
            Path p = Path.of(prop);
            return Files.isDirectory(p) ? p : null;
        }
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            Path candidate = dir.resolve("shared").resolve("promql");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
            dir = dir.getParent();
        }
        return null;
    }

    static int recordedMinimum() throws IOException {
        try (var in = PromqlScriptsTest.class.getResourceAsStream("/promql-passed-min.txt")) {
            if (in == null) {
                throw new IllegalStateException("promql-passed-min.txt missing from test resources");
            }
            return Integer.parseInt(new String(in.readAllBytes(), StandardCharsets.UTF_8).strip());
        }
    }

    @Test
    void prometheusScriptsPassAtLeastTheRecordedCount() throws IOException {
        Path dir = findScripts();
        String prop = System.getProperty("tsdb.promql.dir");
        assertTrue(
                dir != null,
                prop != null && !prop.isBlank()
                        ? "no promql test scripts found: tsdb.promql.dir=" + prop + " is not a directory"
                        : "no promql test scripts found: looked for shared/promql above the working directory (the project's "
                                + "../shared); -Dtsdb.promql.dir=DIR names another place");
        List<Path> files = PromqlTestRunner.scriptsIn(dir);
        assertTrue(!files.isEmpty(), "no *.test files in " + dir);
        PromqlTestRunner.Backend backend = "memory".equalsIgnoreCase(System.getProperty("tsdb.promql.backend"))
                ? PromqlTestRunner.Backend.MEMORY
                : PromqlTestRunner.Backend.STORAGE;
        // verbose: each skipped eval is printed with its reason (they need native histograms)
        PromqlTestRunner runner = new PromqlTestRunner(backend, System.out, true);
        PromqlTestRunner.Result r = runner.run(files);
        int min = recordedMinimum();
        assertTrue(
                r.passed() >= min,
                "only " + r.passed() + " promql evals passed, the record is " + min + " (" + r.summary() + ")");
    }
}
