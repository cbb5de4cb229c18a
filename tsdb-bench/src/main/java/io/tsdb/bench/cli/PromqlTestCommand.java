package io.tsdb.bench.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "promqltest", mixinStandardHelpOptions = true, description = "(in progress)")
public final class PromqlTestCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        throw new UnsupportedOperationException("promqltest: in progress");
    }
}
