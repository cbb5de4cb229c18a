package io.tsdb.cli;

import io.tsdb.cli.query.QueryBenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code tsdb bench}: the benchmark commands. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Benchmarks: the WAL scaling matrix, the promtool write workload, PromQL query latency.",
        subcommands = {WalScalingCommand.class, BenchWriteCommand.class, QueryBenchCommand.class})
public final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(
                spec.commandLine(), "Missing required subcommand: wal-scaling, write or query (see tsdb bench --help)");
    }
}
