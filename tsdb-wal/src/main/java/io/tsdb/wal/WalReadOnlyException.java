package io.tsdb.wal;

/**
 * A write call (append, flush, sync, truncateBefore) on a log opened with {@link WalOptions#readOnly()}.
 * A misuse of the read-only log, not an I/O failure: an {@link IllegalStateException}, like the
 * engine's {@code ReadOnlyStoreException}.
 */
public class WalReadOnlyException extends IllegalStateException {
    public WalReadOnlyException(String message) {
        super(message);
    }
}
