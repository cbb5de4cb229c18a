package io.tsdb.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntFunction;

/**
 * A write-ahead log of byte records split into N independent shards. A record is routed by a
 * 64-bit key to {@code shardFor(key) = mix(key) mod N}; all records of one key live in one shard
 * in append order. Thread-safe.
 *
 * <p>API CONTRACT (frozen; other modules code against it):
 * <ul>
 *   <li>{@link #open(Path, WalOptions)} recovers every shard (see {@link #recoveryReport()}).</li>
 *   <li>{@link #append(long, ByteBuffer, long)} appends one record; returns its offset in its
 *       shard once acknowledged according to the options' durability.</li>
 *   <li>{@link #appendBatch(int, List, long, long)} appends many records to one shard with one
 *       acknowledgement; returns the offset of the last one.</li>
 *   <li>{@link #replay(IntFunction, long[], int)} replays all shards in parallel.</li>
 * </ul>
 */
public final class ShardedWAL implements AutoCloseable {

    private ShardedWAL() {}

    /** Opens (creating if needed) the log in {@code dir}, recovering every shard. */
    public static ShardedWAL open(Path dir, WalOptions options) throws IOException {
        throw new UnsupportedOperationException("todo");
    }

    /** Number of shards. Fixed for a directory: reopening with another count fails clearly. */
    public int shardCount() { throw new UnsupportedOperationException("todo"); }

    /** The shard a key routes to: {@code mix(key) mod shardCount()}. */
    public int shardFor(long key) { throw new UnsupportedOperationException("todo"); }

    /** Direct access to a shard. */
    public WALShard shard(int index) { throw new UnsupportedOperationException("todo"); }

    /**
     * Appends one record routed by {@code key}; {@code attribute} is a caller-supplied 64-bit
     * value (e.g. a timestamp) whose min/max is kept per block. Returns the record's offset.
     */
    public long append(long key, ByteBuffer record, long attribute) throws IOException {
        throw new UnsupportedOperationException("todo");
    }

    /**
     * Appends records to one shard, acknowledged once (all or nothing from the caller's point of
     * view: the records are contiguous in the shard). Returns the offset of the last record.
     */
    public long appendBatch(int shard, List<ByteBuffer> records, long minAttribute, long maxAttribute)
            throws IOException {
        throw new UnsupportedOperationException("todo");
    }

    /** Writes out every shard's pending batch and waits for it per the durability mode (fsync in SYNC_BATCH). */
    public void flush() throws IOException { throw new UnsupportedOperationException("todo"); }

    /** Writes out and fsyncs every shard. */
    public void sync() throws IOException { throw new UnsupportedOperationException("todo"); }

    /**
     * Replays all shards in parallel with at most {@code parallelism} threads; shard i's records
     * (offset >= fromOffsets[i], or all if fromOffsets is null) go in offset order to
     * {@code handlers.apply(i)}, on one thread per shard. Returns timing and counts.
     */
    public ReplayResult replay(IntFunction<RecordHandler> handlers, long[] fromOffsets, int parallelism)
            throws IOException {
        throw new UnsupportedOperationException("todo");
    }

    /** Deletes whole segments of {@code shard} whose records are all below {@code offset}. */
    public void truncateBefore(int shard, long offset) throws IOException {
        throw new UnsupportedOperationException("todo");
    }

    /** The next offset that shard will assign (= number of records ever appended to it). */
    public long nextOffset(int shard) { throw new UnsupportedOperationException("todo"); }

    /** What recovery found and did on open. */
    public RecoveryReport recoveryReport() { throw new UnsupportedOperationException("todo"); }

    /** A snapshot of the instrumentation, per shard and in total. */
    public WalStats stats() { throw new UnsupportedOperationException("todo"); }

    /** Bytes of all segment files. */
    public long diskBytes() { throw new UnsupportedOperationException("todo"); }

    /** Flushes and closes; idempotent. Appends after close throw {@link WalClosedException}. */
    @Override
    public void close() throws IOException { throw new UnsupportedOperationException("todo"); }
}
