package io.tsdb.wal;

public class RecordTooLargeException extends WalException {
    public RecordTooLargeException(String message) { super(message); }
    public RecordTooLargeException(String message, Throwable cause) { super(message, cause); }
}
