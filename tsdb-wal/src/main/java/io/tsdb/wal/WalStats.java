package io.tsdb.wal;

/** Instrumentation snapshot, per shard and in total. */
public final class WalStats {
    private WalStats() {}
    /** The same figures in the Prometheus text exposition format. */
    public String toPrometheusText() { throw new UnsupportedOperationException("todo"); }
}
