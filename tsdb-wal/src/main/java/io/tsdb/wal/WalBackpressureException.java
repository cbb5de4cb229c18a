package io.tsdb.wal;

public class WalBackpressureException extends WalException {
    public WalBackpressureException(String message) { super(message); }
    public WalBackpressureException(String message, Throwable cause) { super(message, cause); }
}
