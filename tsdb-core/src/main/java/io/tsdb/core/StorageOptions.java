package io.tsdb.core;

import io.tsdb.wal.Durability;
import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;

/**
 * Options of a {@link StorageImpl}; {@code StorageOptions.defaults()} needs no tuning. Immutable;
 * build with {@link #builder()}.
 *
 * <table>
 *   <caption>Options and defaults</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>shards</td><td>0 = the WAL's default (2 x processors)</td><td>WAL shards = head partitions; fixed per directory</td></tr>
 *   <tr><td>durability</td><td>PAGE_CACHE</td><td>when a write is acknowledged (see docs/durability.md)</td></tr>
 *   <tr><td>flushInterval</td><td>20 ms</td><td>WAL group-commit interval</td></tr>
 *   <tr><td>checkpointInterval</td><td>15 min</td><td>wall time between head checkpoints; zero disables periodic ones</td></tr>
 *   <tr><td>checkpointWalBytes</td><td>512 MiB</td><td>a checkpoint is also taken once the WAL grew by this much; 0 disables</td></tr>
 *   <tr><td>checkpointOnClose</td><td>true</td><td>write a checkpoint of every shard on close</td></tr>
 *   <tr><td>headChunkLog</td><td>true</td><td>append sealed chunks to {@code chunks_head/} so a restart decodes the WAL instead of re-compressing it</td></tr>
 *   <tr><td>retention</td><td>zero = unlimited</td><td>chunks older than min(newest sample, now) - retention are dropped</td></tr>
 *   <tr><td>maxFutureSkew</td><td>1 hour; zero = off</td><td>reject timestamps later than now + skew ({@link OutOfBoundsException})</td></tr>
 *   <tr><td>outOfOrderWindow</td><td>zero = reject</td><td>accept samples up to this much older than the series' newest</td></tr>
 *   <tr><td>utf8MetricNames</td><td>false</td><td>metric names must match [a-zA-Z_:][a-zA-Z0-9_:]* ({@link InvalidLabelsException}); true accepts any</td></tr>
 *   <tr><td>limits</td><td>64 labels, 256-char names, 4096-char values, 16 KiB per label set, 2^31-1 series</td><td>{@link LimitExceededException}</td></tr>
 *   <tr><td>replayParallelism</td><td>available processors</td><td>threads replaying WAL shards and loading checkpoints</td></tr>
 * </table>
 */
public final class StorageOptions {
    private final int shards;
    private final Durability durability;
    private final Duration flushInterval;
    private final Duration checkpointInterval;
    private final long checkpointWalBytes;
    private final boolean checkpointOnClose;
    private final boolean headChunkLog;
    private final Duration retention;
    private final Duration maxFutureSkew;
    private final Duration outOfOrderWindow;
    private final int maxLabelsPerSeries;
    private final int maxLabelNameLength;
    private final int maxLabelValueLength;
    private final int maxLabelSetBytes;
    private final int maxSeries;
    private final boolean utf8MetricNames;
    private final int replayParallelism;
    private final boolean walCompression;
    private final long walSegmentBytes;
    private final LongSupplier clock;
    private final ToLongFunction<Labels> seriesHash;
    private final io.tsdb.wal.Disk walDisk;
    private final long walMaxBufferedBytes;
    private final Duration walBackpressureTimeout;

    private StorageOptions(Builder b) {
        this.shards = b.shards;
        this.durability = b.durability;
        this.flushInterval = b.flushInterval;
        this.checkpointInterval = b.checkpointInterval;
        this.checkpointWalBytes = b.checkpointWalBytes;
        this.checkpointOnClose = b.checkpointOnClose;
        this.headChunkLog = b.headChunkLog;
        this.retention = b.retention;
        this.maxFutureSkew = b.maxFutureSkew;
        this.outOfOrderWindow = b.outOfOrderWindow;
        this.maxLabelsPerSeries = b.maxLabelsPerSeries;
        this.maxLabelNameLength = b.maxLabelNameLength;
        this.maxLabelValueLength = b.maxLabelValueLength;
        this.maxLabelSetBytes = b.maxLabelSetBytes;
        this.maxSeries = b.maxSeries;
        this.utf8MetricNames = b.utf8MetricNames;
        this.replayParallelism = b.replayParallelism;
        this.walCompression = b.walCompression;
        this.walSegmentBytes = b.walSegmentBytes;
        this.clock = b.clock;
        this.seriesHash = b.seriesHash;
        this.walDisk = b.walDisk;
        this.walMaxBufferedBytes = b.walMaxBufferedBytes;
        this.walBackpressureTimeout = b.walBackpressureTimeout;
    }

    /** {@return the defaults of the class comment's table} */
    public static StorageOptions defaults() {
        return builder().build();
    }

    /** {@return a builder holding the defaults} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return a builder holding these options} */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.shards = shards;
        b.durability = durability;
        b.flushInterval = flushInterval;
        b.checkpointInterval = checkpointInterval;
        b.checkpointWalBytes = checkpointWalBytes;
        b.checkpointOnClose = checkpointOnClose;
        b.headChunkLog = headChunkLog;
        b.retention = retention;
        b.maxFutureSkew = maxFutureSkew;
        b.outOfOrderWindow = outOfOrderWindow;
        b.maxLabelsPerSeries = maxLabelsPerSeries;
        b.maxLabelNameLength = maxLabelNameLength;
        b.maxLabelValueLength = maxLabelValueLength;
        b.maxLabelSetBytes = maxLabelSetBytes;
        b.maxSeries = maxSeries;
        b.utf8MetricNames = utf8MetricNames;
        b.replayParallelism = replayParallelism;
        b.walCompression = walCompression;
        b.walSegmentBytes = walSegmentBytes;
        b.clock = clock;
        b.seriesHash = seriesHash;
        b.walDisk = walDisk;
        b.walMaxBufferedBytes = walMaxBufferedBytes;
        b.walBackpressureTimeout = walBackpressureTimeout;
        return b;
    }

    /** {@return the WAL shard count asked for; 0 = the WAL's default, or the count the store was created with} */
    public int shards() {
        return shards;
    }
    /** {@return when a write is acknowledged (see {@code docs/durability.md})} */
    public Durability durability() {
        return durability;
    }
    /** {@return the WAL group-commit interval} */
    public Duration flushInterval() {
        return flushInterval;
    }
    /** {@return the wall time between periodic checkpoints; zero = none} */
    public Duration checkpointInterval() {
        return checkpointInterval;
    }
    /** {@return the WAL growth, in bytes, that triggers a checkpoint; 0 = none} */
    public long checkpointWalBytes() {
        return checkpointWalBytes;
    }
    /** {@return whether {@link StorageImpl#close()} writes a checkpoint of every shard} */
    public boolean checkpointOnClose() {
        return checkpointOnClose;
    }
    /** {@return whether sealed chunks are kept in the head chunk log} */
    public boolean headChunkLog() {
        return headChunkLog;
    }
    /** {@return the time retention (relative to the newest sample, bounded by the clock); zero = unlimited} */
    public Duration retention() {
        return retention;
    }
    /** {@return how far beyond the wall clock a timestamp may be; zero = no bound} */
    public Duration maxFutureSkew() {
        return maxFutureSkew;
    }
    /** {@return how much older than its series' newest a sample may be; zero = none} */
    public Duration outOfOrderWindow() {
        return outOfOrderWindow;
    }
    /** {@return the most labels a written series may have} */
    public int maxLabelsPerSeries() {
        return maxLabelsPerSeries;
    }
    /** {@return the longest label name accepted, in chars} */
    public int maxLabelNameLength() {
        return maxLabelNameLength;
    }
    /** {@return the longest label value accepted, in chars} */
    public int maxLabelValueLength() {
        return maxLabelValueLength;
    }
    /** {@return the most UTF-8 bytes of names and values a label set may have} */
    public int maxLabelSetBytes() {
        return maxLabelSetBytes;
    }
    /** {@return the most series the head may hold} */
    public int maxSeries() {
        return maxSeries;
    }
    /** {@return whether a metric name may be any UTF-8 string (see {@link Builder#utf8MetricNames})} */
    public boolean utf8MetricNames() {
        return utf8MetricNames;
    }
    /** {@return the threads replaying WAL shards and loading checkpoints on open} */
    public int replayParallelism() {
        return replayParallelism;
    }
    /** {@return whether WAL blocks are LZ4-compressed} */
    public boolean walCompression() {
        return walCompression;
    }
    /** {@return the WAL segment size in bytes; 0 = the WAL's default} */
    public long walSegmentBytes() {
        return walSegmentBytes;
    }

    LongSupplier clock() {
        return clock;
    }

    ToLongFunction<Labels> seriesHash() {
        return seriesHash;
    }

    io.tsdb.wal.Disk walDisk() {
        return walDisk;
    }

    long walMaxBufferedBytes() {
        return walMaxBufferedBytes;
    }

    Duration walBackpressureTimeout() {
        return walBackpressureTimeout;
    }

    @Override
    public String toString() {
        return "StorageOptions{shards=" + shards + ", durability=" + durability + ", flushInterval=" + flushInterval
                + ", checkpointInterval=" + checkpointInterval + ", checkpointWalBytes=" + checkpointWalBytes
                + ", headChunkLog=" + headChunkLog
                + ", retention=" + retention + ", maxFutureSkew=" + maxFutureSkew + ", outOfOrderWindow="
                + outOfOrderWindow
                + ", maxLabelsPerSeries=" + maxLabelsPerSeries + ", maxLabelNameLength=" + maxLabelNameLength
                + ", maxLabelValueLength=" + maxLabelValueLength + ", maxLabelSetBytes=" + maxLabelSetBytes
                + ", maxSeries=" + maxSeries + ", utf8MetricNames=" + utf8MetricNames + ", replayParallelism="
                + replayParallelism + "}";
    }

    /** Builds {@link StorageOptions}; each setter checks its argument at once. Not thread-safe. */
    public static final class Builder {
        private int shards = 0;
        private Durability durability = Durability.PAGE_CACHE;
        private Duration flushInterval = Duration.ofMillis(20);
        private Duration checkpointInterval = Duration.ofMinutes(15);
        private long checkpointWalBytes = 512L << 20;
        private boolean checkpointOnClose = true;
        private boolean headChunkLog = true;
        private Duration retention = Duration.ZERO;
        /** Default future bound: scrape clocks drift by seconds; a timestamp in micro- or nanoseconds is years ahead. */
        private Duration maxFutureSkew = Duration.ofHours(1);

        private Duration outOfOrderWindow = Duration.ZERO;
        private int maxLabelsPerSeries = 64;
        private int maxLabelNameLength = 256;
        private int maxLabelValueLength = 4096;
        private int maxLabelSetBytes = 16 * 1024;
        private int maxSeries = Integer.MAX_VALUE;
        private boolean utf8MetricNames;
        private int replayParallelism = Runtime.getRuntime().availableProcessors();
        private boolean walCompression = true;
        private long walSegmentBytes = 0;
        private LongSupplier clock = System::currentTimeMillis;
        private ToLongFunction<Labels> seriesHash = Labels::hash;
        private io.tsdb.wal.Disk walDisk;
        private long walMaxBufferedBytes;
        private Duration walBackpressureTimeout;

        private Builder() {}

        /**
         * WAL shards = head partitions (0 = WAL default). Fixed for a directory: a non-zero count
         * that differs from the directory's makes {@link StorageImpl#open} throw.
         *
         * @param n the shard count, {@code 0..4096}
         * @return this builder
         * @throws IllegalArgumentException if {@code n} is outside {@code [0, 4096]}
         */
        public Builder shards(int n) {
            if (n < 0 || n > 4096) {
                throw new IllegalArgumentException("shards must be in [0, 4096] (0 = default), got " + n);
            }
            this.shards = n;
            return this;
        }

        /**
         * When a write is acknowledged: {@code PAGE_CACHE} (default), {@code SYNC_BATCH} (fsynced)
         * or {@code ASYNC}; see {@code docs/durability.md}.
         *
         * @param d the mode
         * @return this builder
         * @throws NullPointerException if {@code d} is null
         */
        public Builder durability(Durability d) {
            this.durability = Objects.requireNonNull(d, "durability");
            return this;
        }

        /**
         * The WAL group-commit interval (default 20 ms).
         *
         * @param d the interval, not negative
         * @return this builder
         * @throws NullPointerException     if {@code d} is null
         * @throws IllegalArgumentException if {@code d} is negative
         */
        public Builder flushInterval(Duration d) {
            this.flushInterval = nonNegative(d, "flushInterval");
            return this;
        }

        /**
         * Wall time between periodic checkpoints (default 15 min); {@link Duration#ZERO} disables them.
         *
         * @param d the interval, not negative
         * @return this builder
         * @throws NullPointerException     if {@code d} is null
         * @throws IllegalArgumentException if {@code d} is negative
         */
        public Builder checkpointInterval(Duration d) {
            this.checkpointInterval = nonNegative(d, "checkpointInterval");
            return this;
        }

        /**
         * A checkpoint is taken when the WAL grew by this many bytes since the last one (default
         * 512 MiB); 0 disables.
         *
         * @param bytes the growth in bytes, not negative
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is negative
         */
        public Builder checkpointWalBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("checkpointWalBytes must be >= 0, got " + bytes);
            }
            this.checkpointWalBytes = bytes;
            return this;
        }

        /**
         * Whether {@link StorageImpl#close()} writes a checkpoint of every shard (default true).
         *
         * @param b true to checkpoint on close
         * @return this builder
         */
        public Builder checkpointOnClose(boolean b) {
            this.checkpointOnClose = b;
            return this;
        }

        /**
         * Keep the head chunk log ({@code docs/head-chunks-format.md}): sealed chunks are appended
         * to disk so that a restart decodes the WAL instead of re-compressing it. When off, an
         * existing log is deleted on open.
         *
         * @param b true (default) to keep the log
         * @return this builder
         */
        public Builder headChunkLog(boolean b) {
            this.headChunkLog = b;
            return this;
        }

        /**
         * Time retention; {@link Duration#ZERO} = unlimited (default). Chunks and series older than
         * min(newest sample, now) minus the retention are dropped, and older samples rejected
         * ({@link OutOfBoundsException}).
         *
         * @param d the retention, not negative; used in milliseconds
         * @return this builder
         * @throws NullPointerException     if {@code d} is null
         * @throws IllegalArgumentException if {@code d} is negative
         */
        public Builder retention(Duration d) {
            this.retention = nonNegative(d, "retention");
            return this;
        }

        /**
         * Timestamps later than now + skew are rejected with {@link OutOfBoundsException}; default
         * one hour. {@link Duration#ZERO} lifts the bound (backfill of synthetic or forecast data,
         * tests); retention stays bounded by the clock either way.
         *
         * @param d the skew, not negative; used in milliseconds
         * @return this builder
         * @throws NullPointerException     if {@code d} is null
         * @throws IllegalArgumentException if {@code d} is negative
         */
        public Builder maxFutureSkew(Duration d) {
            this.maxFutureSkew = nonNegative(d, "maxFutureSkew");
            return this;
        }

        /**
         * Samples up to this much older than their series' newest sample are accepted (inserted in
         * order; the affected chunks are re-encoded). {@link Duration#ZERO} (default) rejects every
         * out-of-order sample with {@link OutOfOrderSampleException}.
         *
         * @param d the window, not negative; used in milliseconds
         * @return this builder
         * @throws NullPointerException     if {@code d} is null
         * @throws IllegalArgumentException if {@code d} is negative
         */
        public Builder outOfOrderWindow(Duration d) {
            this.outOfOrderWindow = nonNegative(d, "outOfOrderWindow");
            return this;
        }

        /**
         * The most labels a written series may have (default 64). Over it, writes throw
         * {@link LimitExceededException}.
         *
         * @param n the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code n} is not positive
         */
        public Builder maxLabelsPerSeries(int n) {
            this.maxLabelsPerSeries = positive(n, "maxLabelsPerSeries");
            return this;
        }

        /**
         * The longest label name accepted, in chars (default 256). Over it, writes throw
         * {@link LimitExceededException}.
         *
         * @param n the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code n} is not positive
         */
        public Builder maxLabelNameLength(int n) {
            this.maxLabelNameLength = positive(n, "maxLabelNameLength");
            return this;
        }

        /**
         * The longest label value accepted, in chars (default 4096). Over it, writes throw
         * {@link LimitExceededException}.
         *
         * @param n the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code n} is not positive
         */
        public Builder maxLabelValueLength(int n) {
            this.maxLabelValueLength = positive(n, "maxLabelValueLength");
            return this;
        }

        /**
         * The most UTF-8 bytes of names and values per label set (default 16 KiB). Over it, writes throw
         * {@link LimitExceededException}.
         *
         * @param n the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code n} is not positive
         */
        public Builder maxLabelSetBytes(int n) {
            this.maxLabelSetBytes = positive(n, "maxLabelSetBytes");
            return this;
        }

        /**
         * The most series the head may hold (default {@code Integer.MAX_VALUE}). Over it, writes throw
         * {@link LimitExceededException}.
         *
         * @param n the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code n} is not positive
         */
        public Builder maxSeries(int n) {
            this.maxSeries = positive(n, "maxSeries");
            return this;
        }

        /**
         * Whether a metric name ({@code __name__}'s value) may be any UTF-8 string. Off by default:
         * metric names must match {@code [a-zA-Z_:][a-zA-Z0-9_:]*}, the names PromQL can select
         * bare ({@code my_metric}); others are rejected with {@link InvalidLabelsException}. On,
         * {@code my.metric} is accepted and selected as {@code {__name__="my.metric"}}.
         *
         * @param on true to accept any metric name
         * @return this builder
         */
        public Builder utf8MetricNames(boolean on) {
            this.utf8MetricNames = on;
            return this;
        }

        /**
         * Threads replaying WAL shards and loading checkpoints on open (default: available processors).
         *
         * @param n the limit, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code n} is not positive
         */
        public Builder replayParallelism(int n) {
            this.replayParallelism = positive(n, "replayParallelism");
            return this;
        }

        /**
         * Whether WAL blocks are LZ4-compressed (default true).
         *
         * @param lz4 true to compress
         * @return this builder
         */
        public Builder walCompression(boolean lz4) {
            this.walCompression = lz4;
            return this;
        }

        /**
         * WAL segment size in bytes; 0 = the WAL's default.
         *
         * @param bytes the size, not negative
         * @return this builder
         * @throws IllegalArgumentException if {@code bytes} is negative
         */
        public Builder walSegmentBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("walSegmentBytes must be >= 0, got " + bytes);
            }
            this.walSegmentBytes = bytes;
            return this;
        }

        /**
         * Wall clock in epoch milliseconds (for the future-skew bound); tests substitute one.
         *
         * @param clock returns milliseconds since the epoch; called from writing threads
         * @return this builder
         * @throws NullPointerException if {@code clock} is null
         */
        public Builder clock(LongSupplier clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Test hook: the hash used to route and look up series instead of {@link Labels#hash()}
         * (e.g. a constant, to force every series into one hash bucket). Must be the same on every
         * open of a directory.
         */
        Builder seriesHash(ToLongFunction<Labels> hash) {
            this.seriesHash = Objects.requireNonNull(hash, "hash");
            return this;
        }

        /** Test hook: the file layer of the WAL (fault injection below the engine); null = the real one. */
        Builder walDisk(io.tsdb.wal.Disk disk) {
            this.walDisk = disk;
            return this;
        }

        /**
         * Test hook: the WAL's per-shard buffer bound and how long an append waits for room in it
         * ({@code WalOptions.maxBufferedBytesPerShard}, {@code backpressureTimeout}; the WAL checks
         * them); 0 and null = the WAL's defaults (16 MiB, 10 s).
         */
        Builder walBackpressure(long maxBufferedBytesPerShard, Duration timeout) {
            this.walMaxBufferedBytes = maxBufferedBytesPerShard;
            this.walBackpressureTimeout = timeout;
            return this;
        }

        /** {@return the options; the builder can be reused} */
        public StorageOptions build() {
            return new StorageOptions(this);
        }

        private static Duration nonNegative(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative()) {
                throw new IllegalArgumentException(name + " must not be negative, got " + d);
            }
            return d;
        }

        private static int positive(int n, String name) {
            if (n <= 0) {
                throw new IllegalArgumentException(name + " must be > 0, got " + n);
            }
            return n;
        }
    }
}
