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

/** Selects series by label matchers and answers label-name and label-value questions. Thread-safe. */
public final class Querier {
    private final SeriesSource source;
    private final PostingsPlanner planner;

    public Querier(SeriesSource source) {
        this.source = Objects.requireNonNull(source, "source");
        this.planner = new PostingsPlanner(source);
    }

    public Querier(StorageImpl storage) {
        this(new StorageSeriesSource(storage));
    }

    public SeriesSource source() {
        return source;
    }

    /** The refs selected by the matchers. */
    public RoaringBitmap postings(List<Matcher> matchers) {
        return planner.select(matchers);
    }

    /** Series matching all matchers, sorted by labels, with lazy iterators over [mint, maxt]. */
    public List<Series> select(long mint, long maxt, Matcher... matchers) {
        return select(mint, maxt, Arrays.asList(matchers));
    }

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

    /** Label names: all of them, or those of the series matching the matchers. */
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

    /** Values of a label: all of them, or those on the series matching the matchers. */
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

    private record SelectedSeries(SeriesSource source, int ref, Labels labels, long mint, long maxt)
            implements Series {
        @Override
        public SampleIterator iterator() {
            return source.iterator(ref, mint, maxt);
        }
    }
}
