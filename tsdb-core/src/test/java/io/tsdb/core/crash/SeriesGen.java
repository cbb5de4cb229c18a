package io.tsdb.core.crash;

import io.tsdb.core.Labels;
import io.tsdb.wal.ShardedWAL;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * Deterministic workload shared by the crash tests and the child JVM ({@link CrashWriterMain}).
 *
 * <p>Label sets follow the shape of {@code bench/gen_series.py} (Prometheus' 20kseries.json):
 * a {@code __name__} from a pool of 400 long metric names, 3 labels with one constant value,
 * 5–9 of 15 pooled low-cardinality labels, and 2 high-cardinality labels with unique 40–110
 * character values. Same seed, same series, in the parent and the child.
 *
 * <p>Samples: series {@code i} is written in rounds; round {@code r} has timestamp
 * {@link #timestamp(long)} and the value {@link #valueBits(int, long)}, a deterministic function
 * of (series, timestamp) that also produces NaN payloads, the stale marker, ±Inf and -0.0. A
 * recovered sample whose bits differ from the function, or whose round was never attempted,
 * is a phantom.
 */
final class SeriesGen {
    /** Timestamp of round 0 (ms). */
    static final long T0 = 1_700_000_000_000L;
    /** Scrape interval (ms). */
    static final long STEP = 15_000L;

    private SeriesGen() {}

    /** {@code n} distinct label sets in the shape of gen_series.py, deterministic for {@code seed}. */
    static List<Labels> labelSets(int n, long seed) {
        Random rnd = new Random(seed);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            names.add(word(rnd, 20, 50));
        }
        TreeMap<String, Boolean> ln = new TreeMap<>();
        for (int i = 0; i < 24; i++) {
            ln.put(word(rnd, 3, 17), true);
        }
        List<String> labelNames = new ArrayList<>(ln.keySet());
        Map<String, String> constant = new LinkedHashMap<>();
        for (int i = 0; i < Math.min(3, labelNames.size()); i++) {
            constant.put(labelNames.get(i), word(rnd, 8, 30));
        }
        int[] poolSizes = {3, 8, 20, 60, 300};
        Map<String, List<String>> pools = new LinkedHashMap<>();
        for (int i = 3; i < Math.min(18, labelNames.size()); i++) {
            int size = poolSizes[rnd.nextInt(poolSizes.length)];
            List<String> vals = new ArrayList<>(size);
            for (int k = 0; k < size; k++) {
                vals.add(word(rnd, 2, 40));
            }
            pools.put(labelNames.get(i), vals);
        }
        List<String> pooled = new ArrayList<>(pools.keySet());
        List<String> unique = labelNames.subList(Math.min(18, labelNames.size()), Math.min(20, labelNames.size()));
        Set<Labels> seen = new HashSet<>();
        List<Labels> out = new ArrayList<>(n);
        while (out.size() < n) {
            Map<String, String> ls = new TreeMap<>();
            ls.put(Labels.METRIC_NAME, names.get(rnd.nextInt(names.size())));
            ls.putAll(constant);
            List<String> pick = new ArrayList<>(pooled);
            int k = 5 + rnd.nextInt(5);
            for (int j = 0; j < k && !pick.isEmpty(); j++) {
                String name = pick.remove(rnd.nextInt(pick.size()));
                List<String> vals = pools.get(name);
                ls.put(name, vals.get(rnd.nextInt(vals.size())));
            }
            for (String u : unique) {
                ls.put(u, word(rnd, 40, 110));
            }
            Labels l = Labels.of(ls);
            if (seen.add(l)) {
                out.add(l);
            }
        }
        return out;
    }

    private static String word(Random rnd, int lo, int hi) {
        int len = lo + rnd.nextInt(hi - lo + 1);
        char[] c = new char[len];
        for (int i = 0; i < len; i++) {
            c[i] = (char) ('a' + rnd.nextInt(26));
        }
        return new String(c);
    }

    /** Timestamp of round {@code r}. */
    static long timestamp(long round) {
        return T0 + round * STEP;
    }

    /** Round of a timestamp, or -1 when {@code t} is not a round's timestamp. */
    static long round(long t) {
        long d = t - T0;
        if (d < 0 || d % STEP != 0) {
            return -1;
        }
        return d / STEP;
    }

    /** The raw bits of series {@code series}'s value at timestamp {@code t}. */
    static long valueBits(int series, long t) {
        long h = mix64(series * 0x9E3779B97F4A7C15L ^ t * 0xC2B2AE3D27D4EB4FL ^ 0x5DEECE66DL);
        int kind = (int) Long.remainderUnsigned(h, 64);
        long r = round(t);
        switch (kind) {
            case 0:
                return 0x7ff0000000000002L; // Prometheus stale marker
            case 1:
                return 0x7ff0000000000000L | ((h >>> 12) | 1L); // NaN with a payload (never +Inf)
            case 2:
                return 0xfff8000000000000L | (h >>> 20); // negative quiet NaN with a payload
            case 3:
                return Double.doubleToRawLongBits(-0.0);
            case 4:
                return Double.doubleToRawLongBits((h & 1) == 0 ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY);
            default:
                break;
        }
        if ((series & 1) == 0) {
            // counter-like: grows with the round, integer valued
            return Double.doubleToRawLongBits((double) (r * (series % 7 + 1)));
        }
        // gauge-like: arbitrary finite double
        return Double.doubleToRawLongBits((h >>> 11) * 0x1.0p-53 * 1000.0 - 500.0);
    }

    /** The shard a series routes to in a store of {@code shards} shards (the engine's documented routing). */
    static int shardOf(Labels labels, int shards) {
        return (int) Long.remainderUnsigned(ShardedWAL.mix(labels.hash()), shards);
    }

    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
