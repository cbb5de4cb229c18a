package io.tsdb.core;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import org.roaringbitmap.RoaringBitmap;

/**
 * The storage engine. Thread-safe.
 *
 * <p>READ PRIMITIVES ARE A FROZEN API: tsdb-query codes against {@link #postings},
 * {@link #allPostings}, {@link #labelNames}, {@link #labelValues}, {@link #seriesLabels},
 * {@link #iterator}. Series refs are non-negative ints, stable while the store is open.
 */
public final class StorageImpl implements AutoCloseable {

    private StorageImpl() {}

    public static StorageImpl open(Path dir, StorageOptions options) throws IOException {
        throw new UnsupportedOperationException("todo");
    }

    public void write(TimeSeries series) throws IOException { throw new UnsupportedOperationException("todo"); }

    public void write(Collection<TimeSeries> series) throws IOException { throw new UnsupportedOperationException("todo"); }

    /** Refs of the series having label {@code name=value}; empty bitmap if none. A fresh copy the caller may modify. */
    public RoaringBitmap postings(String name, String value) { throw new UnsupportedOperationException("todo"); }

    /** Refs of every series. A fresh copy the caller may modify. */
    public RoaringBitmap allPostings() { throw new UnsupportedOperationException("todo"); }

    /** All label names, sorted. */
    public List<String> labelNames() { throw new UnsupportedOperationException("todo"); }

    /** All values of a label, sorted; empty if none. */
    public List<String> labelValues(String name) { throw new UnsupportedOperationException("todo"); }

    /** Labels of a series; null if the ref is unknown (e.g. removed by retention). */
    public Labels seriesLabels(int ref) { throw new UnsupportedOperationException("todo"); }

    /** Lazy iterator over a series' samples with mint <= t <= maxt. */
    public SampleIterator iterator(int ref, long mint, long maxt) { throw new UnsupportedOperationException("todo"); }

    /**
     * Monotonic counter that changes whenever a series is added or removed (so query-side caches
     * of postings can be invalidated).
     */
    public long seriesGeneration() { throw new UnsupportedOperationException("todo"); }

    @Override
    public void close() throws IOException { throw new UnsupportedOperationException("todo"); }
}
