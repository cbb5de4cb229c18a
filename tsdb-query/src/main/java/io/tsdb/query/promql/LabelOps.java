package io.tsdb.query.promql;

import io.tsdb.core.Labels;
import java.util.Collection;
import java.util.List;

/** Label-set helpers used by the evaluator. */
final class LabelOps {
    static final String NAME = "__name__";

    private LabelOps() {}

    /**
     * Drops the metric name, caching per input label-set instance, and tracks whether two different input label sets
     * became equal (only then can a step hold duplicates).
     */
    static final class NameDropper {
        private final java.util.IdentityHashMap<Labels, Labels> cache = new java.util.IdentityHashMap<>();
        private final java.util.HashMap<Labels, Labels> origin = new java.util.HashMap<>();
        private boolean mayCollide;

        Labels apply(Labels in) {
            Labels out = cache.get(in);
            if (out == null) {
                out = dropName(in);
                if (cache.size() < 1_000_000) {
                    cache.put(in, out);
                    Labels prev = origin.putIfAbsent(out, in);
                    if (prev != null && !prev.equals(in)) {
                        mayCollide = true;
                    }
                } else {
                    mayCollide = true;
                }
            }
            return out;
        }

        boolean mayCollide() {
            return mayCollide;
        }
    }

    /** A string key identifying a label set exactly (names and values separated by bytes that cannot clash). */
    static String key(Labels l) {
        StringBuilder sb = new StringBuilder(l.size() * 16);
        for (int i = 0; i < l.size(); i++) {
            sb.append(l.name(i)).append('\u0000').append(l.value(i)).append('\u0001');
        }
        return sb.toString();
    }

    static Labels dropName(Labels l) {
        return l.get(NAME) == null ? l : l.toBuilder().remove(NAME).build();
    }

    /** Only the named labels that are present. */
    static Labels keep(Labels l, Collection<String> names) {
        Labels.Builder b = Labels.builder();
        boolean any = false;
        for (String n : names) {
            String v = l.get(n);
            if (v != null && !v.isEmpty()) {
                b.set(n, v);
                any = true;
            }
        }
        return any ? b.build() : Labels.empty();
    }

    /** All labels except the named ones (and optionally the metric name). */
    static Labels without(Labels l, Collection<String> names, boolean alsoName) {
        boolean change = alsoName && l.get(NAME) != null;
        for (String n : names) {
            if (l.get(n) != null) {
                change = true;
                break;
            }
        }
        if (!change) {
            return l;
        }
        Labels.Builder b = l.toBuilder();
        for (String n : names) {
            b.remove(n);
        }
        if (alsoName) {
            b.remove(NAME);
        }
        return b.build();
    }

    /** Matching signature for vector matching / grouping: on(labels) or ignoring(labels) (which also ignores the name). */
    static String signature(Labels l, List<String> names, boolean on) {
        StringBuilder sb = new StringBuilder();
        if (on) {
            for (String n : names) {
                String v = l.get(n);
                sb.append(n).append('\u0000').append(v == null ? "" : v).append('\u0001');
            }
        } else {
            for (int i = 0; i < l.size(); i++) {
                String n = l.name(i);
                if (n.equals(NAME) || names.contains(n)) {
                    continue;
                }
                sb.append(n).append('\u0000').append(l.value(i)).append('\u0001');
            }
        }
        return sb.toString();
    }
}
