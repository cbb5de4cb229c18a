package io.tsdb.core;

/** Any call on a closed {@link StorageImpl}. */
public class StoreClosedException extends IllegalStateException {
    /** @param message names the store directory */
    public StoreClosedException(String message) {
        super(message);
    }
}
