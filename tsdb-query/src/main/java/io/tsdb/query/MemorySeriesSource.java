package io.tsdb.query;

import io.tsdb.core.Labels;
import io.tsdb.core.Sample;
import io.tsdb.core.SampleIterator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.roaringbitmap.RoaringBitmap;

/**
 * A small in-memory {@link SeriesSource} for tests: series are appended (samples in timestamp order). Thread-safe
 * through synchronization; not meant for large data.
 */
public final class MemorySeriesSource implements SeriesSource {
    private final List<Labels> labels = new ArrayList<>();
    private final List<List<Sample>> samples = new ArrayList<>();
    private final Map<Labels, Integer> refs = new HashMap<>();
    private final Map<String, TreeMap<String, RoaringBitmap>> postings = new TreeMap<>();
    private long generation;

    /**
     * Adds samples to the series with these labels (creating it); timestamps must increase.
     *
     * @param l the series' labels
     * @param s the samples, oldest first, all newer than the series' last
     * @return the series ref
     * @throws IllegalArgumentException if a timestamp is not above the one before it (the samples before
     *                                  it are kept)
     */
    public synchronized int add(Labels l, List<Sample> s) {
        Integer ref = refs.get(l);
        if (ref == null) {
            ref = labels.size();
            labels.add(l);
            samples.add(new ArrayList<>());
            refs.put(l, ref);
            for (int i = 0; i < l.size(); i++) {
                postings.computeIfAbsent(l.name(i), k -> new TreeMap<>())
                        .computeIfAbsent(l.value(i), k -> new RoaringBitmap())
                        .add(ref);
            }
            generation++;
        }
        List<Sample> list = samples.get(ref);
        for (Sample x : s) {
            if (!list.isEmpty() && list.get(list.size() - 1).timestamp() >= x.timestamp()) {
                throw new IllegalArgumentException("out of order sample at " + x.timestamp() + " for " + l);
            }
            list.add(x);
        }
        return ref;
    }

    @Override
    public synchronized RoaringBitmap postings(String name, String value) {
        TreeMap<String, RoaringBitmap> m = postings.get(name);
        RoaringBitmap b = m == null ? null : m.get(value);
        return b == null ? new RoaringBitmap() : b.clone();
    }

    @Override
    public synchronized RoaringBitmap allPostings() {
        RoaringBitmap b = new RoaringBitmap();
        if (!labels.isEmpty()) {
            b.add(0L, (long) labels.size());
        }
        return b;
    }

    @Override
    public synchronized List<String> labelNames() {
        return new ArrayList<>(new TreeSet<>(postings.keySet()));
    }

    @Override
    public synchronized List<String> labelValues(String name) {
        TreeMap<String, RoaringBitmap> m = postings.get(name);
        return m == null ? List.of() : new ArrayList<>(m.keySet());
    }

    @Override
    public synchronized Labels labels(int ref) {
        return ref >= 0 && ref < labels.size() ? labels.get(ref) : null;
    }

    @Override
    public synchronized SampleIterator iterator(int ref, long mint, long maxt) {
        if (ref < 0 || ref >= samples.size()) {
            return SampleIterator.EMPTY;
        }
        List<Sample> list = List.copyOf(samples.get(ref));
        return new SampleIterator() {
            private int i = -1;

            @Override
            public boolean next() {
                while (++i < list.size()) {
                    long t = list.get(i).timestamp();
                    if (t > maxt) {
                        i = list.size();
                        return false;
                    }
                    if (t >= mint) {
                        return true;
                    }
                }
                return false;
            }

            @Override
            public long timestamp() {
                return list.get(i).timestamp();
            }

            @Override
            public double value() {
                return list.get(i).value();
            }
        };
    }

    @Override
    public synchronized long generation() {
        return generation;
    }
}
