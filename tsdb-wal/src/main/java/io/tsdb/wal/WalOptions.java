package io.tsdb.wal;

import java.time.Duration;

/**
 * Options of a {@link ShardedWAL}; immutable, built with {@link #builder()}. Defaults need no
 * tuning: shards = 2 x available processors, flush interval 20 ms, segments 64 MiB,
 * durability PAGE_CACHE.
 */
public final class WalOptions {
    private WalOptions() {}

    public static Builder builder() { throw new UnsupportedOperationException("todo"); }

    public static WalOptions defaults() { return builder().build(); }

    public int shards() { throw new UnsupportedOperationException("todo"); }
    public Durability durability() { throw new UnsupportedOperationException("todo"); }

    public static final class Builder {
        private Builder() {}
        public Builder shards(int n) { throw new UnsupportedOperationException("todo"); }
        public Builder durability(Durability d) { throw new UnsupportedOperationException("todo"); }
        public Builder flushInterval(Duration d) { throw new UnsupportedOperationException("todo"); }
        public Builder maxBatchBytes(int bytes) { throw new UnsupportedOperationException("todo"); }
        public Builder maxBatchRecords(int records) { throw new UnsupportedOperationException("todo"); }
        public Builder segmentBytes(long bytes) { throw new UnsupportedOperationException("todo"); }
        public Builder maxRecordBytes(int bytes) { throw new UnsupportedOperationException("todo"); }
        public Builder maxBufferedBytesPerShard(long bytes) { throw new UnsupportedOperationException("todo"); }
        public Builder backpressureTimeout(Duration d) { throw new UnsupportedOperationException("todo"); }
        public Builder compression(boolean lz4) { throw new UnsupportedOperationException("todo"); }
        /** true: corruption before the durable mark fails open with WalCorruptionException; false (default): truncates/skips and reports. */
        public Builder strict(boolean strict) { throw new UnsupportedOperationException("todo"); }
        public WalOptions build() { throw new UnsupportedOperationException("todo"); }
    }
}
