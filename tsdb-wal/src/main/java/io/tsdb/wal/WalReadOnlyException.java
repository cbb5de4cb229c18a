package io.tsdb.wal;

/** A write call (append, flush, sync, truncateBefore) on a log opened with {@link WalOptions#readOnly()}. */
public class WalReadOnlyException extends WalException {
    public WalReadOnlyException(String message) { super(message); }
}
