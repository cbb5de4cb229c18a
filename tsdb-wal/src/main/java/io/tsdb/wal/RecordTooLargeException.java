package io.tsdb.wal;

/**
 * An append whose input is too big for the log's options: a record over
 * {@link WalOptions#maxRecordBytes()}, or one append (a batch) larger than
 * {@link WalOptions#maxBufferedBytesPerShard()}. Nothing of it is appended. An input rejection,
 * not an I/O failure: an {@link IllegalArgumentException}; retrying the same input fails again.
 */
public class RecordTooLargeException extends IllegalArgumentException {
    public RecordTooLargeException(String message) {
        super(message);
    }

    public RecordTooLargeException(String message, Throwable cause) {
        super(message, cause);
    }
}
