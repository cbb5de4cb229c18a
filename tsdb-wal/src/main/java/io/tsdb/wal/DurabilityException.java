package io.tsdb.wal;

/**
 * An fsync ({@code FileChannel.force}) of a segment failed, so the records it was to make durable
 * may not be on disk. Thrown to every caller that waited for that fsync: the writers of the
 * {@link Durability#SYNC_BATCH} block it covered (their records are not in the log: the segment is
 * sealed before their block), and the caller of {@link ShardedWAL#sync()} or {@code close()}.
 *
 * <p>The failed fsync is never retried on that file (Linux may already have dropped the dirty
 * pages and marked them clean, so a second fsync would "succeed"). The segment is sealed at its
 * last synced length, recorded in the anchor, and the shard continues on a new segment; only if
 * that cannot be opened does the shard turn read-only ({@link ShardFailedException}). See
 * docs/durability.md.
 */
public class DurabilityException extends WalException {
    private final int shard;
    private final String segment;

    public DurabilityException(int shard, String segment, String message, Throwable cause) {
        super("shard " + shard + " segment " + segment + ": " + message, cause);
        this.shard = shard;
        this.segment = segment;
    }

    /** A new exception for one more waiter of the same failed fsync (its own stack trace, same message). */
    DurabilityException copyForCaller() {
        return new DurabilityException(this);
    }

    private DurabilityException(DurabilityException e) {
        super(e.getMessage(), e);
        this.shard = e.shard;
        this.segment = e.segment;
    }

    /** The shard whose fsync failed. */
    public int shard() {
        return shard;
    }

    /** File name of the segment whose fsync failed (e.g. {@code 00000000000000000000.log}). */
    public String segment() {
        return segment;
    }
}
