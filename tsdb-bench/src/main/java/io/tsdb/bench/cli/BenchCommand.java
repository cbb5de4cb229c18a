package io.tsdb.bench.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code tsdb bench}: the benchmark commands. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: the WAL scaling matrix and the promtool write workload.",
        subcommands = {WalScalingCommand.class, BenchWriteCommand.class})
public final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "Missing required subcommand: wal-scaling or write (see tsdb bench --help)");
    }
}
