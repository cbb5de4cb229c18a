package io.tsdb.wal;

import java.time.Duration;
import java.util.Objects;

/**
 * Options of a {@link ShardedWAL}; immutable, built with {@link #builder()}. Defaults need no
 * tuning: shards = 2 x available processors (or the count stored in the directory), flush
 * interval 20 ms, segments 64 MiB, durability PAGE_CACHE.
 */
public final class WalOptions {
    /** Hard upper bound of a block's uncompressed payload (format constant, see docs/wal-format.md). */
    public static final int MAX_BLOCK_PAYLOAD = BlockCodec.MAX_PAYLOAD_BYTES;

    private final int shards;
    private final Durability durability;
    private final Duration flushInterval;
    private final int maxBatchBytes;
    private final int maxBatchRecords;
    private final long segmentBytes;
    private final int maxRecordBytes;
    private final long maxBufferedBytesPerShard;
    private final Duration backpressureTimeout;
    private final boolean compression;
    private final boolean strict;
    private final Duration periodicSync;
    private final Disk disk;
    private final java.util.concurrent.Executor rollExecutor;
    private final boolean readOnly;

    private WalOptions(Builder b) {
        this.shards = b.shards;
        this.durability = b.durability;
        this.flushInterval = b.flushInterval;
        this.maxBatchBytes = b.maxBatchBytes;
        this.maxBatchRecords = b.maxBatchRecords;
        this.segmentBytes = b.segmentBytes;
        this.maxRecordBytes = b.maxRecordBytes;
        this.maxBufferedBytesPerShard = b.maxBufferedBytesPerShard;
        this.backpressureTimeout = b.backpressureTimeout;
        this.compression = b.compression;
        this.strict = b.strict;
        this.periodicSync = b.periodicSync;
        this.disk = b.disk;
        this.rollExecutor = b.rollExecutor;
        this.readOnly = b.readOnly;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static WalOptions defaults() {
        return builder().build();
    }

    /** Requested shard count; 0 means "what the directory holds, else 2 x available processors". */
    public int shards() {
        return shards;
    }

    public Durability durability() {
        return durability;
    }

    public Duration flushInterval() {
        return flushInterval;
    }

    public int maxBatchBytes() {
        return maxBatchBytes;
    }

    public int maxBatchRecords() {
        return maxBatchRecords;
    }

    public long segmentBytes() {
        return segmentBytes;
    }

    public int maxRecordBytes() {
        return maxRecordBytes;
    }

    public long maxBufferedBytesPerShard() {
        return maxBufferedBytesPerShard;
    }

    public Duration backpressureTimeout() {
        return backpressureTimeout;
    }

    public boolean compression() {
        return compression;
    }

    public boolean strict() {
        return strict;
    }
    /** Background fsync interval, or null when off. */
    public Duration periodicSync() {
        return periodicSync;
    }
    /** The file layer (the real one unless a test injects faults). */
    public Disk disk() {
        return disk;
    }
    /**
     * True: {@link ShardedWAL#open} inspects the log without changing anything on disk (see
     * {@link Builder#readOnly(boolean)}).
     */
    public boolean readOnly() {
        return readOnly;
    }
    /** Tests only: where ASYNC roll completions run (null: the log's sync thread). */
    java.util.concurrent.Executor rollExecutor() {
        return rollExecutor;
    }

    /** The default shard count: 2 x available processors. */
    public static int defaultShardCount() {
        return 2 * Runtime.getRuntime().availableProcessors();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.shards = shards;
        b.durability = durability;
        b.flushInterval = flushInterval;
        b.maxBatchBytes = maxBatchBytes;
        b.maxBatchRecords = maxBatchRecords;
        b.segmentBytes = segmentBytes;
        b.maxRecordBytes = maxRecordBytes;
        b.maxBufferedBytesPerShard = maxBufferedBytesPerShard;
        b.backpressureTimeout = backpressureTimeout;
        b.compression = compression;
        b.strict = strict;
        b.periodicSync = periodicSync;
        b.disk = disk;
        b.rollExecutor = rollExecutor;
        b.readOnly = readOnly;
        return b;
    }

    @Override
    public String toString() {
        return "WalOptions{shards=" + shards + ", durability=" + durability + ", flushInterval=" + flushInterval
                + ", maxBatchBytes=" + maxBatchBytes + ", maxBatchRecords=" + maxBatchRecords
                + ", segmentBytes=" + segmentBytes + ", maxRecordBytes=" + maxRecordBytes
                + ", maxBufferedBytesPerShard=" + maxBufferedBytesPerShard
                + ", backpressureTimeout=" + backpressureTimeout + ", compression=" + compression
                + ", strict=" + strict + ", periodicSync=" + periodicSync + (readOnly ? ", readOnly" : "") + "}";
    }

    public static final class Builder {
        private int shards = 0;
        private Durability durability = Durability.PAGE_CACHE;
        private Duration flushInterval = Duration.ofMillis(20);
        private int maxBatchBytes = 1 << 20;
        private int maxBatchRecords = 65_536;
        private long segmentBytes = 64L << 20;
        private int maxRecordBytes = 1 << 20;
        private long maxBufferedBytesPerShard = 16L << 20;
        private Duration backpressureTimeout = Duration.ofSeconds(10);
        private boolean compression = true;
        private boolean strict = false;
        private Duration periodicSync = null;
        private Disk disk = Disk.DEFAULT;
        private java.util.concurrent.Executor rollExecutor;
        private boolean readOnly;

        private Builder() {}

        /** Shard count, 1..4096; 0 (default) = the count stored in the directory, else 2 x available processors. */
        public Builder shards(int n) {
            if (n < 0 || n > 4096)
                throw new IllegalArgumentException("shards must be 0 (default) or 1..4096, got " + n);
            this.shards = n;
            return this;
        }

        public Builder durability(Durability d) {
            this.durability = Objects.requireNonNull(d, "durability");
            return this;
        }

        public Builder flushInterval(Duration d) {
            Objects.requireNonNull(d, "flushInterval");
            if (d.isNegative() || d.isZero())
                throw new IllegalArgumentException("flushInterval must be positive, got " + d);
            this.flushInterval = d;
            return this;
        }

        public Builder maxBatchBytes(int bytes) {
            if (bytes <= 0 || bytes > MAX_BLOCK_PAYLOAD / 2)
                throw new IllegalArgumentException(
                        "maxBatchBytes must be 1.." + MAX_BLOCK_PAYLOAD / 2 + ", got " + bytes);
            this.maxBatchBytes = bytes;
            return this;
        }

        public Builder maxBatchRecords(int records) {
            if (records <= 0) throw new IllegalArgumentException("maxBatchRecords must be positive, got " + records);
            this.maxBatchRecords = records;
            return this;
        }

        public Builder segmentBytes(long bytes) {
            if (bytes < 4096 || bytes > (1L << 30))
                throw new IllegalArgumentException("segmentBytes must be 4096..1 GiB, got " + bytes);
            this.segmentBytes = bytes;
            return this;
        }

        public Builder maxRecordBytes(int bytes) {
            if (bytes <= 0 || bytes > MAX_BLOCK_PAYLOAD / 4)
                throw new IllegalArgumentException(
                        "maxRecordBytes must be 1.." + MAX_BLOCK_PAYLOAD / 4 + ", got " + bytes);
            this.maxRecordBytes = bytes;
            return this;
        }
        /** Bound of the bytes buffered in RAM per shard (pending + in-flight batch); also the largest single append call. */
        public Builder maxBufferedBytesPerShard(long bytes) {
            if (bytes <= 0 || bytes > MAX_BLOCK_PAYLOAD / 2)
                throw new IllegalArgumentException(
                        "maxBufferedBytesPerShard must be 1.." + MAX_BLOCK_PAYLOAD / 2 + ", got " + bytes);
            this.maxBufferedBytesPerShard = bytes;
            return this;
        }

        public Builder backpressureTimeout(Duration d) {
            Objects.requireNonNull(d, "backpressureTimeout");
            if (d.isNegative())
                throw new IllegalArgumentException("backpressureTimeout must not be negative, got " + d);
            this.backpressureTimeout = d;
            return this;
        }

        public Builder compression(boolean lz4) {
            this.compression = lz4;
            return this;
        }
        /** true: corruption before the durable mark fails open with WalCorruptionException; false (default): skips the damaged block and reports. */
        public Builder strict(boolean strict) {
            this.strict = strict;
            return this;
        }
        /** PAGE_CACHE/ASYNC plus a background fsync (and anchor update) every {@code d}; null turns it off. */
        public Builder periodicSync(Duration d) {
            if (d != null && (d.isNegative() || d.isZero()))
                throw new IllegalArgumentException("periodicSync must be positive or null, got " + d);
            this.periodicSync = d;
            return this;
        }
        /**
         * true: a read-only open, for inspection beside a live writer process (docs/durability.md,
         * "Read-only open"). {@link ShardedWAL#open} then creates, truncates, renames, deletes and
         * writes nothing (it fails if the directory does not exist), works out in memory what
         * recovery would keep, and starts no background thread; {@code replay} reads exactly that
         * prefix, and the write calls throw {@link WalReadOnlyException}. Default false.
         */
        public Builder readOnly(boolean readOnly) {
            this.readOnly = readOnly;
            return this;
        }
        /** The file layer; tests substitute a fault-injecting one. */
        public Builder disk(Disk disk) {
            this.disk = Objects.requireNonNull(disk, "disk");
            return this;
        }
        /**
         * Tests only: runs the completion of ASYNC segment rolls (force and close of the old
         * segment, force and directory fsync of the new one, anchor) on {@code e} instead of the
         * log's sync thread, so that a test can decide when it happens.
         */
        Builder rollExecutor(java.util.concurrent.Executor e) {
            this.rollExecutor = e;
            return this;
        }

        public WalOptions build() {
            return new WalOptions(this);
        }
    }
}
