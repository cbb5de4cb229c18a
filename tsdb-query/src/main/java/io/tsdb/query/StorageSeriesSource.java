package io.tsdb.query;

import io.tsdb.core.Labels;
import io.tsdb.core.SampleIterator;
import io.tsdb.core.StorageImpl;
import java.util.List;
import java.util.Objects;
import org.roaringbitmap.RoaringBitmap;

/** {@link SeriesSource} over a {@link StorageImpl}'s read primitives. */
public final class StorageSeriesSource implements SeriesSource {
    private final StorageImpl storage;

    /**
     * @param storage the store to read
     * @throws NullPointerException if {@code storage} is null
     */
    public StorageSeriesSource(StorageImpl storage) {
        this.storage = Objects.requireNonNull(storage, "storage");
    }

    /** {@return the store} */
    public StorageImpl storage() {
        return storage;
    }

    @Override
    public RoaringBitmap postings(String name, String value) {
        return storage.postings(name, value);
    }

    @Override
    public RoaringBitmap allPostings() {
        return storage.allPostings();
    }

    @Override
    public List<String> labelNames() {
        return storage.labelNames();
    }

    @Override
    public List<String> labelValues(String name) {
        return storage.labelValues(name);
    }

    @Override
    public Labels labels(int ref) {
        return storage.seriesLabels(ref);
    }

    @Override
    public SampleIterator iterator(int ref, long mint, long maxt) {
        return storage.iterator(ref, mint, maxt);
    }

    @Override
    public long generation() {
        return storage.seriesGeneration();
    }
}
