package io.tsdb.wal;

public class ShardFailedException extends WalException {
    public ShardFailedException(String message) { super(message); }
    public ShardFailedException(String message, Throwable cause) { super(message, cause); }
}
