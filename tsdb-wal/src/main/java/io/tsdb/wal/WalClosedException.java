package io.tsdb.wal;

/**
 * A call on a closed log or shard (an append, flush or replay after {@code close()}), or a
 * write whose records were still buffered when the log was closed. A lifecycle error of the
 * caller, not an I/O failure: an {@link IllegalStateException}, like the engine's
 * {@code StoreClosedException}.
 */
public class WalClosedException extends IllegalStateException {
    public WalClosedException(String message) {
        super(message);
    }

    public WalClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
