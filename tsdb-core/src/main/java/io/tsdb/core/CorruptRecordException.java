package io.tsdb.core;

/** A WAL record or checkpoint that does not decode: bad type, version, length or content. */
public class CorruptRecordException extends RuntimeException {
    /** @param message what did not decode, and where */
    public CorruptRecordException(String message) {
        super(message);
    }
}
