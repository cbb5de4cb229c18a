package io.tsdb.core;

/**
 * A WAL record or checkpoint that does not decode: bad type, version, length or content.
 *
 * <p>Internal to the package, and never thrown to a caller of the store: replay counts a damaged
 * record ({@code StorageStats.Replay#corruptRecords()}), and open skips a damaged checkpoint and
 * reports it ({@code StorageStats.Checkpoint#problems()}). It is unchecked so that the decoders can
 * throw it from their visitor callbacks; if it ever escaped a boundary it would arrive wrapped in
 * an {@link java.io.IOException} (the WAL's replay and the checkpoint load wrap what their workers
 * throw).
 */
final class CorruptRecordException extends RuntimeException {
    /** @param message what did not decode, and where */
    CorruptRecordException(String message) {
        super(message);
    }
}
