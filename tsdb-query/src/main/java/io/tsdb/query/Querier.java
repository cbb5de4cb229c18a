package io.tsdb.query;

import io.tsdb.core.Labels;
import io.tsdb.core.SampleIterator;
import io.tsdb.core.StorageImpl;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import org.roaringbitmap.RoaringBitmap;

/**
 * Selects series by label matchers and answers label-name and label-value questions. Thread-safe.
 * Timestamps are milliseconds since the Unix epoch. A selector needs at least one matcher that does
 * not match the empty string (as in Prometheus: {@code {job=~".*"}} alone is refused).
 */
public final class Querier {
    private final SeriesSource source;
    private final PostingsPlanner planner;

    /**
     * @param source what to read
     * @throws NullPointerException if {@code source} is null
     */
    public Querier(SeriesSource source) {
        this.source = Objects.requireNonNull(source, "source");
        this.planner = new PostingsPlanner(source);
    }

    /**
     * @param storage the store to read, through {@link StorageSeriesSource}
     * @throws NullPointerException if {@code storage} is null
     */
    public Querier(StorageImpl storage) {
        this(new StorageSeriesSource(storage));
    }

    /** {@return what this querier reads} */
    public SeriesSource source() {
        return source;
    }

    /**
     * The refs selected by the matchers.
     *
     * @param matchers the selector
     * @return a fresh bitmap of series refs
     * @throws IllegalArgumentException if {@code matchers} is null or empty, or every matcher matches the empty string
     * @throws NullPointerException     if a matcher is null
     * @throws io.tsdb.core.StoreClosedException if the source is a closed {@link StorageImpl}
     */
    public RoaringBitmap postings(List<Matcher> matchers) {
        return planner.select(matchers);
    }

    /**
     * Series matching all matchers, sorted by labels, with lazy iterators over {@code [mint, maxt]}.
     *
     * @param mint     lower bound, inclusive, in ms since the epoch
     * @param maxt     upper bound, inclusive, in ms since the epoch
     * @param matchers the selector
     * @return the selected series; their samples are read when iterated
     * @throws IllegalArgumentException if {@code mint > maxt}, there is no matcher, or every matcher
     *                                  matches the empty string
     * @throws NullPointerException     if a matcher is null
     * @throws io.tsdb.core.StoreClosedException if the source is a closed {@link StorageImpl}
     */
    public List<Series> select(long mint, long maxt, Matcher... matchers) {
        return select(mint, maxt, Arrays.asList(matchers));
    }

    /**
     * As {@link #select(long, long, Matcher...)}.
     *
     * @param mint     lower bound, inclusive, in ms since the epoch
     * @param maxt     upper bound, inclusive, in ms since the epoch
     * @param matchers the selector
     * @return the selected series, sorted by labels
     * @throws IllegalArgumentException if {@code mint > maxt}, {@code matchers} is null or empty, or every
     *                                  matcher matches the empty string
     * @throws NullPointerException     if a matcher is null
     * @throws io.tsdb.core.StoreClosedException if the source is a closed {@link StorageImpl}
     */
    public List<Series> select(long mint, long maxt, List<Matcher> matchers) {
        if (mint > maxt) {
            throw new IllegalArgumentException("mint " + mint + " is after maxt " + maxt);
        }
        RoaringBitmap refs = planner.select(matchers);
        List<Series> out = new ArrayList<>(refs.getCardinality());
        refs.forEach((int ref) -> {
            Labels l = source.labels(ref);
            if (l != null) {
                out.add(new SelectedSeries(source, ref, l, mint, maxt));
            }
        });
        out.sort((a, b) -> a.labels().compareTo(b.labels()));
        return out;
    }

    /**
     * Label names: all of them, or those of the series matching the matchers.
     *
     * @param matchers none, or a selector
     * @return the names, sorted
     * @throws IllegalArgumentException if matchers are given and every matcher matches the empty string
     * @throws NullPointerException     if a matcher is null
     * @throws io.tsdb.core.StoreClosedException if the source is a closed {@link StorageImpl}
     */
    public List<String> labelNames(Matcher... matchers) {
        if (matchers.length == 0) {
            return source.labelNames();
        }
        TreeSet<String> names = new TreeSet<>();
        planner.select(Arrays.asList(matchers)).forEach((int ref) -> {
            Labels l = source.labels(ref);
            if (l != null) {
                for (int i = 0; i < l.size(); i++) {
                    names.add(l.name(i));
                }
            }
        });
        return new ArrayList<>(names);
    }

    /**
     * Values of a label: all of them, or those on the series matching the matchers.
     *
     * @param name     the label name
     * @param matchers none, or a selector
     * @return the values, sorted
     * @throws NullPointerException     if {@code name} or a matcher is null
     * @throws IllegalArgumentException if matchers are given and every matcher matches the empty string
     * @throws io.tsdb.core.StoreClosedException if the source is a closed {@link StorageImpl}
     */
    public List<String> labelValues(String name, Matcher... matchers) {
        Objects.requireNonNull(name, "name");
        if (matchers.length == 0) {
            return source.labelValues(name);
        }
        TreeSet<String> values = new TreeSet<>();
        planner.select(Arrays.asList(matchers)).forEach((int ref) -> {
            Labels l = source.labels(ref);
            String v = l == null ? null : l.get(name);
            if (v != null) {
                values.add(v);
            }
        });
        return new ArrayList<>(values);
    }

    private record SelectedSeries(SeriesSource source, int ref, Labels labels, long mint, long maxt) implements Series {
        @Override
        public SampleIterator iterator() {
            return source.iterator(ref, mint, maxt);
        }
    }
}
