package io.tsdb.bench.wal;

import io.tsdb.wal.ShardedWAL;

/** Reads the figures the benchmarks need from a {@link ShardedWAL}'s stats snapshot. */
public final class WalMetrics {
    private WalMetrics() {}

    /** Total nanoseconds appenders waited for shard locks, over all shards. */
    public static long lockWaitNanosTotal(ShardedWAL wal) {
        return wal.stats().total().lockWaitTotalNanos();
    }

    /** Total appends over all shards. */
    public static long appendsTotal(ShardedWAL wal) {
        return wal.stats().total().appends();
    }
}
