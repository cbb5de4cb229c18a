package io.tsdb.bench.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "query", mixinStandardHelpOptions = true, description = "(in progress)")
public final class QueryCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnsupportedOperationException("query: in progress");
    }
}
