package io.tsdb.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code tsdb} command line: {@code demo}, {@code bench wal-scaling}, {@code bench write},
 * {@code stats}, {@code query}, {@code promqltest}. Exit codes: 0 success, 1 failure (including a
 * failed promqltest eval), 2 bad usage.
 */
@Command(
        name = "tsdb",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Embeddable time-series storage engine: demo, benchmarks, inspection and queries.",
        subcommands = {
            DemoCommand.class,
            BenchCommand.class,
            StatsCommand.class,
            QueryCommand.class,
            PromqlTestCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand");
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        int rc = run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(rc);
    }

    /** Runs the command line with the given streams; returns the exit code (used by tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = commandLine();
        cl.setOut(out);
        cl.setErr(err);
        int rc = cl.execute(args);
        out.flush();
        err.flush();
        return rc;
    }

    /** The configured command line (exception handler prints a one-line error, exit 1). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            if (ex instanceof CommandLine.ParameterException pe) {
                err.println("tsdb: " + pe.getMessage());
                return 2;
            }
            String msg =
                    ex.getMessage() == null ? ex.toString() : ex.getClass().getSimpleName() + ": " + ex.getMessage();
            err.println("tsdb " + commandLine.getCommandName() + ": error: " + msg);
            if (System.getenv("TSDB_DEBUG") != null) {
                ex.printStackTrace(err);
            } else {
                err.println("(set TSDB_DEBUG=1 for the stack trace)");
            }
            err.flush();
            return 1;
        });
        return cl;
    }

    /** Version from the jar manifest, or the development marker. */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {
                "tsdb " + (v == null ? "0.1.0-SNAPSHOT" : v),
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"
            };
        }
    }
}
