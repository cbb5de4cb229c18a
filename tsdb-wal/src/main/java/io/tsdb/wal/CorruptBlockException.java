package io.tsdb.wal;

import java.io.IOException;

/** A block failed validation (bad magic, version, length, CRC, LZ4 stream or record framing). */
public class CorruptBlockException extends IOException {
    public CorruptBlockException(String message) { super(message); }
    public CorruptBlockException(String message, Throwable cause) { super(message, cause); }
}
