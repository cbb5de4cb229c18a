package io.tsdb.query;

import io.tsdb.core.Labels;
import io.tsdb.core.SampleIterator;
import java.util.List;
import org.roaringbitmap.RoaringBitmap;

/**
 * What the query layer reads from a store: postings, label names/values, series labels and lazy sample iterators.
 * {@link StorageSeriesSource} adapts a {@code StorageImpl}; {@link MemorySeriesSource} is a small in-memory one.
 */
public interface SeriesSource {
    /** Refs of series with {@code name=value}; a fresh bitmap the caller may modify. */
    RoaringBitmap postings(String name, String value);

    /** Refs of every series; a fresh bitmap the caller may modify. */
    RoaringBitmap allPostings();

    /** All label names, sorted. */
    List<String> labelNames();

    /** All values of a label, sorted; empty if none. */
    List<String> labelValues(String name);

    /** Labels of a series, or null if the ref is unknown. */
    Labels labels(int ref);

    /** Lazy iterator over the samples of a series with {@code mint <= t <= maxt}. */
    SampleIterator iterator(int ref, long mint, long maxt);

    /** Changes whenever series are added or removed (postings caches key on it). */
    long generation();
}
