package io.tsdb.core;

/**
 * A write call ({@code appender}, {@code write}, {@code flush}, {@code checkpoint}) on a store
 * opened with {@link StorageImpl#openReadOnly}: such a store only reads.
 */
public class ReadOnlyStoreException extends IllegalStateException {
    /** @param message names the call and the store directory */
    public ReadOnlyStoreException(String message) {
        super(message);
    }
}
