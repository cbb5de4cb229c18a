package io.tsdb.wal;

public class WalClosedException extends WalException {
    public WalClosedException(String message) { super(message); }
    public WalClosedException(String message, Throwable cause) { super(message, cause); }
}
