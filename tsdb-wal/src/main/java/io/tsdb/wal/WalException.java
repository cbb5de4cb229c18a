package io.tsdb.wal;

import java.io.IOException;

/**
 * Root of the log's I/O-caused failures: the device, the file system or the data on it let a call
 * down. Every subclass is an {@link IOException}, so a caller that handles {@code IOException}
 * handles all of them:
 *
 * <ul>
 *   <li>{@link StorageFullException}: the device or a quota is full (writes resume by themselves);</li>
 *   <li>{@link DurabilityException}: an fsync failed (the segment is sealed, the shard goes on);</li>
 *   <li>{@link ShardFailedException}: the shard refuses writes until the log is reopened;</li>
 *   <li>{@link WalBackpressureException}: the shard's buffer stayed full (the device is too slow)
 *       for longer than {@link WalOptions#backpressureTimeout()};</li>
 *   <li>{@link WalCorruptionException}: damage found in strict mode, with shard, segment and position;</li>
 *   <li>{@link CorruptBlockException}: one block failed validation.</li>
 * </ul>
 *
 * <p>Plain {@code IOException}s from the JDK (a failed write, a missing directory) are thrown as
 * they are or wrapped with the shard and file in the message. Not I/O failures, and therefore
 * not {@code WalException}s: {@link RecordTooLargeException} (an {@link IllegalArgumentException}:
 * the input is too big) and {@link WalClosedException} / {@link WalReadOnlyException} (an
 * {@link IllegalStateException}: a write call on a closed or read-only log). See
 * docs/durability.md, "Exceptions".
 */
public class WalException extends IOException {
    public WalException(String message) {
        super(message);
    }

    public WalException(String message, Throwable cause) {
        super(message, cause);
    }
}
