package io.tsdb.core;

/** Options of a {@link StorageImpl}; {@code StorageOptions.defaults()} needs no tuning. */
public final class StorageOptions {
    private StorageOptions() {}

    public static StorageOptions defaults() { throw new UnsupportedOperationException("todo"); }
}
