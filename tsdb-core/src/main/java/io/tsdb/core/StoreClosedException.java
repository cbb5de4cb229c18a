package io.tsdb.core;

/** Any call on a closed {@link StorageImpl}. */
public class StoreClosedException extends IllegalStateException {
    public StoreClosedException(String message) {
        super(message);
    }
}
