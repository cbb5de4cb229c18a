package io.tsdb.core;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/** The reference semantics of writes: per series, accept t > newest; same t and bits is a no-op; else reject. */
final class Model {
    final TreeMap<Labels, List<long[]>> series = new TreeMap<>();

    /** Returns true if accepted (or idempotent), false if the store must reject it. */
    boolean apply(Labels l, long t, double v) {
        long bits = Double.doubleToRawLongBits(v);
        List<long[]> s = series.get(l);
        if (s == null || s.isEmpty()) {
            series.computeIfAbsent(l, k -> new ArrayList<>()).add(new long[] {t, bits});
            return true;
        }
        long[] last = s.get(s.size() - 1);
        if (t > last[0]) {
            s.add(new long[] {t, bits});
            return true;
        }
        return t == last[0] && bits == last[1];
    }

    String render() {
        return TestUtil.render(series);
    }
}
