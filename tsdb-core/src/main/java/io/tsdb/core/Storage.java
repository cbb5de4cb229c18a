package io.tsdb.core;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;

/**
 * An embedded time-series store: write labeled samples, make them durable, close. Open one with
 * {@link #open(Path, StorageOptions)} (the writer; one per directory) or
 * {@link #openReadOnly(Path)} (inspection beside the writer). {@link StorageImpl} is the
 * implementation; code that only writes and manages a store can depend on this interface.
 *
 * <p>Timestamps are milliseconds since the epoch. Every method is thread-safe except where its
 * result says otherwise ({@link Appender}: one per thread). After {@link #close()}, calls throw
 * {@link StoreClosedException}; on a read-only store, write calls throw
 * {@link ReadOnlyStoreException}.
 *
 * <p>Reads: today through {@link StorageImpl}'s primitives and the query module's
 * {@code Querier}/{@code PromqlEngine}; a querier over a time range joins this interface when the
 * core is reshaped (see "Changes for embedders" in {@code docs/architecture.md}).
 */
public interface Storage extends AutoCloseable {

    /**
     * Opens (creating if needed) the store in {@code dir} for writing.
     *
     * @see StorageImpl#open(Path, StorageOptions)
     */
    static Storage open(Path dir, StorageOptions options) throws IOException {
        return StorageImpl.open(dir, options);
    }

    /**
     * Opens an existing store for reading only; writes nothing and takes no lock.
     *
     * @see StorageImpl#openReadOnly(Path, StorageOptions)
     */
    static Storage openReadOnly(Path dir) throws IOException {
        return StorageImpl.openReadOnly(dir);
    }

    /**
     * A new appender for scrape-shaped writes (one per thread; commit to write, close to roll back).
     *
     * @throws StoreClosedException   if the store is closed
     * @throws ReadOnlyStoreException if the store is read-only
     */
    Appender appender();

    /**
     * Writes one series' samples.
     *
     * @throws IOException if the WAL failed; input rejections are the {@link IllegalArgumentException}
     *                     family ({@link SampleRejectedException}, {@link InvalidLabelsException},
     *                     {@link PartialWriteException})
     * @see StorageImpl#write(TimeSeries)
     */
    void write(TimeSeries series) throws IOException;

    /**
     * Writes a batch: every valid sample, then {@link PartialWriteException} if any was rejected.
     *
     * @throws IOException if the WAL failed
     * @see StorageImpl#write(Collection)
     */
    void write(Collection<TimeSeries> series) throws IOException;

    /**
     * Hands everything acknowledged so far to the OS (and fsyncs it in {@code SYNC_BATCH}).
     *
     * @throws IOException if a shard's write-out failed
     */
    void flush() throws IOException;

    /**
     * Writes a checkpoint of every shard and lets the WAL drop what the checkpoints cover.
     *
     * @throws IOException if the WAL could not be synced or a checkpoint not written
     */
    void checkpoint() throws IOException;

    /** A snapshot of the store's figures (head, WAL, replay, checkpoints). */
    StorageStats stats();

    /** Whether the store was opened read-only. */
    boolean isReadOnly();

    /** The store's directory. */
    Path directory();

    /**
     * Flushes, checkpoints (unless disabled) and closes; idempotent.
     *
     * @throws IOException if the final flush, checkpoint or WAL close failed
     */
    @Override
    void close() throws IOException;
}
