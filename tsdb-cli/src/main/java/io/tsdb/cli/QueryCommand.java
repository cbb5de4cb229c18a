package io.tsdb.cli;

import io.tsdb.cli.query.QuerySupport;
import io.tsdb.core.StorageImpl;
import io.tsdb.query.promql.PromqlEngine;
import io.tsdb.query.promql.QueryResult;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tsdb query DIR 'expr' [--at T | --start S --end E --step D]}: evaluates PromQL on a store. */
@Command(
        name = "query",
        mixinStandardHelpOptions = true,
        description = {
            "Evaluates a PromQL expression on a store: an instant query (--at, default now) or a range query"
                    + " (--start, --end, --step).",
            "Times: RFC 3339 (2024-01-02T03:04:05Z), Unix seconds (1700000000.5), 'now', or 'now' plus or minus a"
                    + " PromQL duration (now-1h, now-1h30m, now+5m). Step: a PromQL duration (15s, 1m, 1h30m) or"
                    + " seconds."
        })
public final class QueryCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "Store directory.")
    Path dir;

    @Parameters(index = "1", paramLabel = "EXPR", description = "PromQL expression (quote it for the shell).")
    String expr;

    @Option(names = "--at", paramLabel = "T", description = "Evaluation time of an instant query (default: now).")
    String at;

    @Option(names = "--start", paramLabel = "S", description = "Start of a range query.")
    String start;

    @Option(names = "--end", paramLabel = "E", description = "End of a range query.")
    String end;

    @Option(names = "--step", paramLabel = "D", description = "Step of a range query.")
    String step;

    @Option(
            names = "--limit",
            paramLabel = "N",
            description = "Print at most N series / rows (default: ${DEFAULT-VALUE}).")
    int limit = 1000;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        boolean range = start != null || end != null || step != null;
        if (range && (at != null || start == null || end == null || step == null)) {
            throw new CommandLine.ParameterException(cl, "give either --at or all of --start, --end and --step");
        }
        if (limit < 1) {
            throw new CommandLine.ParameterException(cl, "--limit must be >= 1, got " + limit);
        }
        Instant now = Instant.now(); // one 'now' for all options: --start now-1h --end now spans an hour
        Instant t = range ? null : at == null ? now : TimeArgs.parseTime(cl, "--at", at, now);
        Instant s = range ? TimeArgs.parseTime(cl, "--start", start, now) : null;
        Instant e = range ? TimeArgs.parseTime(cl, "--end", end, now) : null;
        Duration d = range ? TimeArgs.parseDuration(cl, "--step", step) : null;
        if (range && e.isBefore(s)) {
            throw new CommandLine.ParameterException(cl, "--end (" + e + ") is before --start (" + s + ")");
        }
        PrintWriter o = cl.getOut();
        try (StorageImpl store = StatsCommand.openExisting(cl, dir)) {
            PromqlEngine engine = new PromqlEngine(store);
            long t0 = System.nanoTime();
            QueryResult r = range ? engine.rangeQuery(expr, s, e, d) : engine.instantQuery(expr, t);
            double ms = (System.nanoTime() - t0) / 1e6;
            QuerySupport.printFull(r, o, limit);
            o.printf(Locale.ROOT, "# %s query in %.1f ms%n", range ? "range" : "instant at " + t, ms);
            o.flush();
        }
        return 0;
    }
}
