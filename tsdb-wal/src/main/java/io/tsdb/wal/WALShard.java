package io.tsdb.wal;

/** One shard of a {@link ShardedWAL}: its own lock, batch, segments, index and anchor. */
public final class WALShard {
    private WALShard() {}
}
