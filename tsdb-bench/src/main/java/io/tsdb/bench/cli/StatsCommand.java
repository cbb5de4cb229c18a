package io.tsdb.bench.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "stats", mixinStandardHelpOptions = true, description = "(in progress)")
public final class StatsCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnsupportedOperationException("stats: in progress");
    }
}
