package io.tsdb.query;

import io.tsdb.core.Labels;
import io.tsdb.core.SampleIterator;
import java.util.List;
import org.roaringbitmap.RoaringBitmap;

/**
 * What the query layer reads from a store: postings, label names/values, series labels and lazy sample iterators.
 * {@link StorageSeriesSource} adapts a {@code StorageImpl}; {@link MemorySeriesSource} is a small in-memory one.
 * Implementations must be thread-safe (the query layer calls them from any thread). Timestamps are milliseconds
 * since the Unix epoch. {@link StorageSeriesSource}'s methods throw {@link io.tsdb.core.StoreClosedException}
 * once the store is closed (except {@link #generation()}).
 */
public interface SeriesSource {
    /**
     * Refs of series with {@code name=value}; a fresh bitmap the caller may modify.
     *
     * @param name  label name
     * @param value label value
     * @return the refs
     */
    RoaringBitmap postings(String name, String value);

    /** {@return the refs of every series; a fresh bitmap the caller may modify} */
    RoaringBitmap allPostings();

    /** {@return all label names, sorted} */
    List<String> labelNames();

    /**
     * All values of a label, sorted; empty if none.
     *
     * @param name label name
     * @return the values
     */
    List<String> labelValues(String name);

    /**
     * Labels of a series, or null if the ref is unknown.
     *
     * @param ref a series ref
     * @return the labels, or null
     */
    Labels labels(int ref);

    /**
     * Lazy iterator over the samples of a series with {@code mint <= t <= maxt}.
     *
     * @param ref  a series ref
     * @param mint lower bound, inclusive, in ms since the epoch
     * @param maxt upper bound, inclusive, in ms since the epoch
     * @return the samples in timestamp order; empty for an unknown ref
     */
    SampleIterator iterator(int ref, long mint, long maxt);

    /** {@return a counter that changes whenever series are added or removed (postings caches key on it)} */
    long generation();
}
