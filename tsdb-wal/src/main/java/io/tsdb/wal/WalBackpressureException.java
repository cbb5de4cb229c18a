package io.tsdb.wal;

/**
 * The shard's buffer ({@link WalOptions#maxBufferedBytesPerShard()}) stayed full for longer than
 * {@link WalOptions#backpressureTimeout()}: the device does not take the writes as fast as they
 * come. The append's records are not in the log; a retry once the buffer drained can succeed. An
 * I/O-caused failure, so a {@link WalException} (an {@link java.io.IOException}).
 */
public class WalBackpressureException extends WalException {
    public WalBackpressureException(String message) {
        super(message);
    }

    public WalBackpressureException(String message, Throwable cause) {
        super(message, cause);
    }
}
