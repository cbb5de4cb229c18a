package io.tsdb.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A seeded random source with generators for property tests. Like jqwik's edge-case mix-in, every
 * generator returns one of its edge values (bounds, 0, ±1, {@code Long.MIN/MAX_VALUE}, NaN
 * payloads, ±Inf, -0.0, empty and maximal sizes) with probability {@link #EDGE} instead of a
 * uniform pick, so the edges are hit in every run without shrinking. Extends {@link Random} so it
 * can be handed to code that takes one ({@code Collections.shuffle}, helpers).
 */
public final class Gen extends Random {
    private static final long serialVersionUID = 1L;
    /** Probability of an edge value instead of a random one. */
    public static final double EDGE = 0.1;

    private static final long[] LONG_EDGES = {
        0,
        1,
        -1,
        2,
        -2,
        Long.MIN_VALUE,
        Long.MAX_VALUE,
        Long.MIN_VALUE + 1,
        Long.MAX_VALUE - 1,
        Integer.MIN_VALUE,
        Integer.MAX_VALUE,
        1L << 32,
        -(1L << 32)
    };

    private static final long[] DOUBLE_EDGE_BITS = {
        Double.doubleToRawLongBits(0.0),
        Double.doubleToRawLongBits(-0.0),
        Double.doubleToRawLongBits(1.0),
        Double.doubleToRawLongBits(-1.0),
        Double.doubleToRawLongBits(Double.NaN),
        0x7ff0000000000002L /* stale */,
        0x7ff8dead0000beefL,
        0xfff8000000000001L,
        0x7ff0000000000001L,
        0x7fffffffffffffffL,
        Double.doubleToRawLongBits(Double.POSITIVE_INFINITY),
        Double.doubleToRawLongBits(Double.NEGATIVE_INFINITY),
        Double.doubleToRawLongBits(Double.MIN_VALUE),
        Double.doubleToRawLongBits(-Double.MIN_VALUE),
        Double.doubleToRawLongBits(Double.MAX_VALUE),
        Double.doubleToRawLongBits(-Double.MAX_VALUE),
        Double.doubleToRawLongBits(Double.MIN_NORMAL)
    };

    private static final String SPECIAL_CHARS = "\"\\/\u0000\u007f\u00ff\u2028\uffff\ufeff'`{}";

    public Gen(long seed) {
        super(seed);
    }

    /** True with probability {@link #EDGE}. */
    public boolean edge() {
        return nextDouble() < EDGE;
    }

    public boolean bool() {
        return nextBoolean();
    }

    /** Any long; edges: 0, ±1, ±2, MIN, MAX, MIN+1, MAX-1, int bounds, ±2^32. */
    public long anyLong() {
        if (edge()) {
            return LONG_EDGES[nextInt(LONG_EDGES.length)];
        }
        // as jqwik: mostly small magnitudes too, not only uniformly huge ones
        return switch (nextInt(3)) {
            case 0 -> nextLong();
            case 1 -> nextLong() >> nextInt(64);
            default -> nextInt(2001) - 1000;
        };
    }

    /** A long in [min, max]; edges: min, max, and 0, ±1 when in range. */
    public long longBetween(long min, long max) {
        if (min > max) {
            throw new IllegalArgumentException(min + " > " + max);
        }
        if (edge()) {
            long e = switch (nextInt(5)) {
                case 0 -> min;
                case 1 -> max;
                case 2 -> 0;
                case 3 -> 1;
                default -> -1;
            };
            if (e >= min && e <= max) {
                return e;
            }
            return min;
        }
        long span = max - min; // may overflow: then any long is uniform enough after the checks below
        if (span >= 0 && span < Long.MAX_VALUE) {
            // bias towards small distances from min as often as uniform picks (jqwik favours small sizes too)
            long bound = span + 1;
            long r = nextInt(3) == 0
                    ? (nextLong() >>> 1) % Math.min(bound, 1 + (1L << nextInt(63)))
                    : (nextLong() >>> 1) % bound;
            return min + r;
        }
        long v;
        do {
            v = nextLong();
        } while (v < min || v > max);
        return v;
    }

    /** An int in [min, max] with the edges of {@link #longBetween}. */
    public int intBetween(int min, int max) {
        return (int) longBetween(min, max);
    }

    /** A non-negative int; edges: 0, 1, Integer.MAX_VALUE. */
    public int anyNonNegativeInt() {
        return intBetween(0, Integer.MAX_VALUE);
    }

    /** A double of any bit pattern, a "normal" double, or an edge (NaN payloads, ±Inf, ±0.0, extremes). */
    public double anyDouble() {
        if (edge()) {
            return Double.longBitsToDouble(DOUBLE_EDGE_BITS[nextInt(DOUBLE_EDGE_BITS.length)]);
        }
        return switch (nextInt(4)) {
            case 0 -> Double.longBitsToDouble(nextLong());
            case 1 -> (nextInt(200_001) - 100_000) / 100.0;
            case 2 -> nextGaussian() * Math.pow(10, nextInt(40) - 20);
            default -> (nextDouble() - 0.5) * Double.MAX_VALUE;
        };
    }

    /** One of the double edge values. */
    public double edgeDouble() {
        return Double.longBitsToDouble(DOUBLE_EDGE_BITS[nextInt(DOUBLE_EDGE_BITS.length)]);
    }

    /** A size in [min, max], biased towards small sizes (half the picks below max/8); edges min and max. */
    public int size(int min, int max) {
        if (edge()) {
            return nextBoolean() ? min : max;
        }
        int small = Math.max(min, Math.min(max, min + Math.max(1, (max - min) / 8)));
        return nextBoolean() ? min + nextInt(small - min + 1) : min + nextInt(max - min + 1);
    }

    /** Random bytes of a {@link #size} length; edges: all 0x00, all 0xFF. */
    public byte[] bytes(int minLen, int maxLen) {
        byte[] a = new byte[size(minLen, maxLen)];
        if (edge()) {
            java.util.Arrays.fill(a, nextBoolean() ? 0 : (byte) 0xFF);
        } else {
            nextBytes(a);
        }
        return a;
    }

    /** A string of chars from {@code alphabet} (may hold surrogate pairs as two chars) with a {@link #size} length. */
    public String string(String alphabet, int minLen, int maxLen) {
        int n = size(minLen, maxLen);
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append(alphabet.charAt(nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    /**
     * Any Java string, as jqwik's {@code Arbitraries.strings()}: any UTF-16 char incl. controls,
     * unpaired surrogates, non-BMP pairs, quotes and backslashes; edges: empty and {@code maxLen} long.
     */
    public String anyString(int maxLen) {
        int n = size(0, maxLen);
        StringBuilder sb = new StringBuilder(n);
        while (sb.length() < n) {
            switch (nextInt(8)) {
                case 0 -> sb.append((char) nextInt(0x20)); // control
                case 1 -> sb.append(SPECIAL_CHARS.charAt(nextInt(SPECIAL_CHARS.length())));
                case 2 -> sb.append((char) (0xD800 + nextInt(0x800))); // lone surrogate
                case 3 -> sb.appendCodePoint(0x10000 + nextInt(0x100000)); // pair
                case 4 -> sb.append((char) nextInt(0x10000));
                default -> sb.append((char) (0x20 + nextInt(0x5f)));
            }
        }
        return sb.length() > maxLen ? sb.substring(0, maxLen) : sb.toString();
    }

    @SafeVarargs
    public final <T> T oneOf(T... choices) {
        return choices[nextInt(choices.length)];
    }

    public <T> T pick(List<T> choices) {
        return choices.get(nextInt(choices.size()));
    }

    /** Index i chosen with probability weights[i] / sum(weights). */
    public int weighted(int... weights) {
        int sum = 0;
        for (int w : weights) {
            sum += w;
        }
        int r = nextInt(sum);
        for (int i = 0; i < weights.length; i++) {
            r -= weights[i];
            if (r < 0) {
                return i;
            }
        }
        throw new AssertionError();
    }

    /** A list of {@link #size} length of elements from {@code element}. */
    public <T> List<T> list(int minSize, int maxSize, Supplier<T> element) {
        int n = size(minSize, maxSize);
        List<T> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(element.get());
        }
        return out;
    }

    /** A list of {@link #size} length of elements from {@code element}, which gets this generator. */
    public <T> List<T> listOf(int minSize, int maxSize, Function<Gen, T> element) {
        return list(minSize, maxSize, () -> element.apply(this));
    }
}
