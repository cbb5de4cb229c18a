package io.tsdb.wal;

/**
 * The shard refuses writes until the log is reopened: its recovery failed (it is reported as
 * unreadable), or an fsync failed and not even a new segment could be opened (see
 * {@link DurabilityException}). Other shards are not affected; reads of this one still work.
 */
public class ShardFailedException extends WalException {
    public ShardFailedException(String message) {
        super(message);
    }

    public ShardFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
