package io.tsdb.cli;

import io.tsdb.cli.promqltest.PromqlTestRunner;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tsdb promqltest FILE...}: runs Prometheus promqltest scripts ({@code load}, {@code eval},
 * {@code expect}, {@code clear}) against the engine, each in a fresh store; prints per file and in
 * total {@code promql evals: N passed, N failed, N skipped}; exit code 1 if any eval failed.
 */
@Command(
        name = "promqltest",
        mixinStandardHelpOptions = true,
        description = {
            "Runs PromQL test scripts (Prometheus's promqltest format) against the engine, each file in a fresh store.",
            "Prints 'promql evals: N passed, N failed, N skipped' per file and in total, and each failure; exit code 1 if any failed."
        })
public final class PromqlTestCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(
            index = "0..*",
            arity = "1..*",
            paramLabel = "FILE",
            description = "Script files (*.test) or directories of them.")
    List<Path> files;

    @Option(
            names = {"-v", "--verbose"},
            description = "Also print each skipped eval and why.")
    boolean verbose;

    @Option(
            names = "--memory",
            description = "Load series into an in-memory source instead of a store (tests the engine alone).")
    boolean memory;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        List<Path> scripts = new ArrayList<>();
        for (Path p : files) {
            if (Files.isDirectory(p)) {
                List<Path> in = PromqlTestRunner.scriptsIn(p);
                if (in.isEmpty()) {
                    throw new CommandLine.ParameterException(cl, "directory " + p + " holds no *.test scripts");
                }
                scripts.addAll(in);
            } else if (Files.isRegularFile(p)) {
                scripts.add(p);
            } else {
                throw new CommandLine.ParameterException(cl, "script " + p + " does not exist");
            }
        }
        PrintWriter o = cl.getOut();
        try (PrintStream ps = new PrintStream(new LineForwarder(o), true, StandardCharsets.UTF_8)) {
            PromqlTestRunner.Result r = new PromqlTestRunner(
                            memory ? PromqlTestRunner.Backend.MEMORY : PromqlTestRunner.Backend.STORAGE, ps, verbose)
                    .run(scripts);
            ps.flush();
            o.flush();
            return r.failed() == 0 ? 0 : 1;
        }
    }

    /** Forwards whole UTF-8 lines written to a PrintStream to a PrintWriter. */
    private static final class LineForwarder extends OutputStream {
        private final PrintWriter target;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        LineForwarder(PrintWriter target) {
            this.target = target;
        }

        @Override
        public void write(int b) {
            line.write(b);
            if (b == '\n') {
                flush();
            }
        }

        @Override
        public void flush() {
            if (line.size() > 0) {
                target.print(line.toString(StandardCharsets.UTF_8));
                line.reset();
            }
            target.flush();
        }
    }
}
