package io.tsdb.wal;

/** A block failed validation (bad magic, version, length, CRC, LZ4 stream or record framing). */
public class CorruptBlockException extends WalException {
    public CorruptBlockException(String message) {
        super(message);
    }

    public CorruptBlockException(String message, Throwable cause) {
        super(message, cause);
    }
}
