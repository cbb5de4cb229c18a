package io.tsdb.bench.query;

import io.tsdb.core.StorageImpl;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;

/** Temporary: raw selects until the query module is installed. */
public final class QuerySupport {
    private QuerySupport() {}

    public static void demoQueries(StorageImpl store, Instant at, Duration step, PrintWriter o) {
        o.println("  (query module not available in this build)");
    }
}
