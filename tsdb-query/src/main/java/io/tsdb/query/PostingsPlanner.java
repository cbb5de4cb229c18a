package io.tsdb.query;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import org.roaringbitmap.RoaringBitmap;

/**
 * Turns a list of matchers into the refs of the series they select. Matchers that do not match the empty string
 * contribute a positive bitmap (intersected smallest first); matchers that match the empty string contribute a
 * negative bitmap (subtracted with and-not). Per-matcher bitmaps are cached (Caffeine) and the cache is dropped
 * whenever the source's series generation changes, so new series are never missed.
 */
public final class PostingsPlanner {
    private final SeriesSource source;
    /** A cached bitmap and the series generation it was computed at (entries of another generation are ignored). */
    private record Entry(long generation, RoaringBitmap bitmap) {}

    private final Cache<Matcher, Entry> cache;
    private volatile long cachedGeneration = Long.MIN_VALUE;

    /**
     * A planner caching up to 10,000 matchers.
     *
     * @param source what to read
     * @throws NullPointerException if {@code source} is null
     */
    public PostingsPlanner(SeriesSource source) {
        this(source, 10_000);
    }

    /**
     * @param source            what to read
     * @param maxCachedMatchers the most matcher bitmaps kept in the cache
     * @throws NullPointerException     if {@code source} is null
     * @throws IllegalArgumentException if {@code maxCachedMatchers} is negative
     */
    public PostingsPlanner(SeriesSource source, long maxCachedMatchers) {
        this.source = Objects.requireNonNull(source, "source");
        this.cache = Caffeine.newBuilder().maximumSize(maxCachedMatchers).build();
    }

    /**
     * Validates a selector: at least one matcher, at least one that does not match the empty string.
     *
     * @param matchers the selector
     * @throws IllegalArgumentException if {@code matchers} is null or empty, or every matcher matches the empty
     *                                  string
     * @throws NullPointerException     if a matcher is null
     */
    public static void validate(List<Matcher> matchers) {
        if (matchers == null || matchers.isEmpty()) {
            throw new IllegalArgumentException("a selector needs at least one matcher, got none");
        }
        for (Matcher m : matchers) {
            if (!m.matchesEmpty()) {
                return;
            }
        }
        throw new IllegalArgumentException("selector " + format(matchers)
                + " must contain at least one matcher that does not match the empty string");
    }

    static String format(List<Matcher> matchers) {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < matchers.size(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(matchers.get(i));
        }
        return sb.append('}').toString();
    }

    /**
     * The refs of the series matched by all matchers (a fresh bitmap). Thread-safe.
     *
     * @param matchers the selector
     * @return the refs
     * @throws IllegalArgumentException if the selector is invalid (see {@link #validate})
     * @throws NullPointerException     if a matcher is null
     */
    public RoaringBitmap select(List<Matcher> matchers) {
        validate(matchers);
        long gen = source.generation();
        if (gen != cachedGeneration) {
            cache.invalidateAll();
            cachedGeneration = gen;
        }
        List<RoaringBitmap> positive = new ArrayList<>();
        List<RoaringBitmap> negative = new ArrayList<>();
        for (Matcher m : matchers) {
            Entry e = cache.getIfPresent(m);
            RoaringBitmap b;
            if (e != null && e.generation() == gen) {
                b = e.bitmap();
            } else {
                b = compute(m);
                if (source.generation() == gen) {
                    cache.put(m, new Entry(gen, b));
                }
            }
            if (m.matchesEmpty()) {
                negative.add(b);
            } else {
                positive.add(b);
            }
        }
        positive.sort(Comparator.comparingLong(RoaringBitmap::getLongCardinality));
        RoaringBitmap result = positive.get(0).clone();
        for (int i = 1; i < positive.size() && !result.isEmpty(); i++) {
            result.and(positive.get(i));
        }
        for (RoaringBitmap n : negative) {
            if (result.isEmpty()) {
                break;
            }
            result.andNot(n);
        }
        return result;
    }

    /**
     * For a matcher that does not match "": the refs it selects. For one that matches "": the refs it rejects
     * (series having the label with a value that does not match).
     */
    RoaringBitmap compute(Matcher m) {
        boolean matchesEmpty = m.matchesEmpty();
        switch (m.type()) {
            case EQUAL:
                if (!matchesEmpty) {
                    return source.postings(m.name(), m.value());
                }
                return unionWhere(m, v -> !v.isEmpty());
            case NOT_EQUAL:
                if (matchesEmpty) {
                    return source.postings(m.name(), m.value());
                }
                return unionWhere(m, v -> !v.isEmpty());
            default:
                if (!matchesEmpty) {
                    return unionMatching(m, true);
                }
                return unionMatching(m, false);
        }
    }

    private RoaringBitmap unionWhere(Matcher m, java.util.function.Predicate<String> p) {
        RoaringBitmap out = new RoaringBitmap();
        for (String v : source.labelValues(m.name())) {
            if (p.test(v)) {
                out.or(source.postings(m.name(), v));
            }
        }
        return out;
    }

    /** Union of postings of values where {@code m.matches(v) == want}, with the literal fast paths. */
    private RoaringBitmap unionMatching(Matcher m, boolean want) {
        RoaringBitmap out = new RoaringBitmap();
        boolean positiveRegex = m.type() == Matcher.Type.REGEX;
        List<String> set = m.literalSet();
        if (set != null && positiveRegex == want) {
            // values selected by the regex are exactly the literals
            for (String lit : set) {
                if (!lit.isEmpty()) {
                    out.or(source.postings(m.name(), lit));
                }
            }
            return out;
        }
        List<String> values = source.labelValues(m.name());
        String prefix = m.literalPrefix();
        if (!prefix.isEmpty() && positiveRegex == want) {
            int from = Collections.binarySearch(values, prefix);
            if (from < 0) {
                from = -from - 1;
            }
            for (int i = from; i < values.size() && values.get(i).startsWith(prefix); i++) {
                if (m.matches(values.get(i)) == want) {
                    out.or(source.postings(m.name(), values.get(i)));
                }
            }
            return out;
        }
        for (String v : values) {
            if (m.matches(v) == want) {
                out.or(source.postings(m.name(), v));
            }
        }
        return out;
    }
}
