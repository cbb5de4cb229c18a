package io.tsdb.core.chunk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tsdb.core.SampleIterator;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** Randomised round trips and robustness of {@link Chunk}. */
class ChunkProperties {

    /** Special doubles that must survive bit-exactly. */
    static final double[] SPECIALS = {
        Double.longBitsToDouble(0x7ff0000000000002L), // Prometheus stale marker (signalling NaN)
        Double.NaN, Double.longBitsToDouble(0xfff8000000000001L), Double.longBitsToDouble(0x7ff0000000000001L),
        Double.longBitsToDouble(0x7fffffffffffffffL), Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
        -0.0, 0.0, Double.MIN_VALUE, -Double.MIN_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE, Double.MIN_NORMAL,
        9007199254740991.0, -9007199254740991.0, 9007199254740992.0, -9007199254740992.0, 0.5, 1e300,
        (double) Long.MAX_VALUE, (double) Long.MIN_VALUE,
    };

    @Provide
    Arbitrary<long[]> timestamps() {
        Arbitrary<long[]> sortedAny = Arbitraries.longs().set().ofMaxSize(130)
                .map(s -> s.stream().mapToLong(Long::longValue).sorted().toArray());
        Arbitrary<long[]> regular = Combinators.combine(
                        Arbitraries.longs().between(-4_000_000_000_000L, 4_000_000_000_000L),
                        Arbitraries.longs().between(1, 120_000),
                        Arbitraries.integers().between(0, 130),
                        Arbitraries.longs())
                .as((start, step, count, seed) -> {
                    Random r = new Random(seed);
                    boolean jitter = r.nextBoolean();
                    long[] ts = new long[count];
                    for (int i = 0; i < count; i++) {
                        ts[i] = start + i * step + (jitter ? (long) (r.nextDouble() * step * 0.999) : 0);
                    }
                    return ts;
                });
        Arbitrary<long[]> gaps = Combinators.combine(Arbitraries.longs(), Arbitraries.integers().between(0, 130),
                        Arbitraries.longs())
                .as((start, count, seed) -> {
                    Random r = new Random(seed);
                    long[] ts = new long[count];
                    long t = start;
                    int k = 0;
                    for (; k < count; k++) {
                        ts[k] = t;
                        long gap = switch (r.nextInt(5)) {
                            case 0 -> 1;
                            case 1 -> 1 + r.nextInt(100);
                            case 2 -> 1 + (r.nextLong() >>> (1 + r.nextInt(63)));
                            case 3 -> 30_000 + r.nextInt(3) - 1;
                            default -> 1 + r.nextInt(1_000_000);
                        };
                        if (t > Long.MAX_VALUE - gap) {
                            k++;
                            break;
                        }
                        t += gap;
                    }
                    return Arrays.copyOf(ts, k);
                });
        Arbitrary<long[]> edges = Arbitraries.of(
                new long[] {Long.MIN_VALUE, Long.MAX_VALUE},
                new long[] {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE},
                new long[] {Long.MIN_VALUE, Long.MIN_VALUE + 1, Long.MAX_VALUE - 1, Long.MAX_VALUE},
                new long[] {Long.MIN_VALUE, 0, 1, Long.MAX_VALUE},
                new long[] {-5, Long.MAX_VALUE - 3, Long.MAX_VALUE - 2, Long.MAX_VALUE});
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, sortedAny), net.jqwik.api.Tuple.of(4, regular),
                net.jqwik.api.Tuple.of(3, gaps), net.jqwik.api.Tuple.of(1, edges));
    }

    @Provide
    Arbitrary<double[]> values() {
        Arbitrary<Double> anyBits = Arbitraries.longs().map(Double::longBitsToDouble);
        Arbitrary<Double> special = Arbitraries.of(Arrays.stream(SPECIALS).boxed().toArray(Double[]::new));
        Arbitrary<Double> ints = Arbitraries.longs().between(-ChunkIterator.MAX_INT_VALUE, ChunkIterator.MAX_INT_VALUE)
                .map(x -> (double) x);
        Arbitrary<Double> smallInts = Arbitraries.integers().between(-1000, 1000).map(x -> (double) x);
        Arbitrary<Double> decimals = Arbitraries.integers().between(-100000, 100000).map(x -> x / 100.0);
        Arbitrary<Double> mixed = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, anyBits), net.jqwik.api.Tuple.of(2, special),
                net.jqwik.api.Tuple.of(2, ints), net.jqwik.api.Tuple.of(2, smallInts),
                net.jqwik.api.Tuple.of(2, decimals), net.jqwik.api.Tuple.of(1, Arbitraries.doubles()));
        Arbitrary<double[]> anyMix = mixed.array(double[].class).ofMaxSize(130);
        Arbitrary<double[]> intsOnly = Arbitraries.oneOf(ints, smallInts).array(double[].class).ofMaxSize(130);
        // integers first, then anything: exercises the INT_DOD -> XOR switch at every position
        Arbitrary<double[]> intsThenMix = Combinators.combine(intsOnly, anyMix).as((a, b) -> {
            double[] r = Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, r, a.length, b.length);
            return r;
        });
        Arbitrary<double[]> counters = Combinators.combine(Arbitraries.longs().between(-1_000_000, 1_000_000),
                        Arbitraries.integers().between(0, 5000), Arbitraries.longs(), Arbitraries.integers().between(0, 130))
                .as((start, inc, seed, count) -> {
                    Random r = new Random(seed);
                    double[] v = new double[count];
                    long x = start;
                    for (int i = 0; i < count; i++) {
                        v[i] = x;
                        x += r.nextBoolean() ? inc : r.nextInt(inc + 1);
                    }
                    return v;
                });
        return Arbitraries.oneOf(anyMix, intsOnly, intsThenMix, counters);
    }

    @Property(tries = 300)
    void roundTripsEverySample(@ForAll("timestamps") long[] ts, @ForAll("values") double[] vs) {
        int count = Math.min(ts.length, vs.length);
        Chunk c = Chunk.create();
        int stored = appendAll(c, ts, vs, 0, count);
        assertEquals(Math.min(count, Chunk.TARGET_SAMPLES), stored);
        assertSamples(c, ts, vs, stored);
        boolean allInts = true;
        for (int i = 0; i < stored; i++) {
            allInts &= Chunk.isIntegral(vs[i]);
        }
        assertEquals(allInts ? Encoding.INT_DOD : Encoding.XOR, c.encoding());
        assertEquals(stored == 0 ? Long.MAX_VALUE : ts[0], c.minTime());
        assertEquals(stored == 0 ? Long.MIN_VALUE : ts[stored - 1], c.maxTime());
        if (stored > 0) {
            assertEquals(Double.doubleToRawLongBits(vs[stored - 1]), Double.doubleToRawLongBits(c.lastValue()));
        }

        byte[] bytes = c.toBytes();
        assertEquals(bytes.length, c.sizeBytes());
        byte[] padded = new byte[bytes.length + 7];
        System.arraycopy(bytes, 0, padded, 3, bytes.length);
        Chunk back = Chunk.fromBytes(padded, 3, bytes.length);
        assertSamples(back, ts, vs, stored);
        assertEquals(c.encoding(), back.encoding());
        assertEquals(c.minTime(), back.minTime());
        assertEquals(c.maxTime(), back.maxTime());
        assertArrayEquals(bytes, back.toBytes());

        c.seal();
        assertSamples(c, ts, vs, stored);
        assertArrayEquals(bytes, c.toBytes());
    }

    /** A chunk restored from bytes resumes appending exactly where the original would have. */
    @Property(tries = 200)
    void restoredChunkContinuesIdentically(@ForAll("timestamps") long[] ts, @ForAll("values") double[] vs,
            @ForAll @IntRange(min = 0, max = 130) int split, @ForAll boolean sealFirst) {
        int count = Math.min(ts.length, vs.length);
        int k = Math.min(split, count);
        Chunk whole = Chunk.create();
        appendAll(whole, ts, vs, 0, count);
        Chunk head = Chunk.create();
        appendAll(head, ts, vs, 0, k);
        if (sealFirst) {
            head.seal();
        }
        Chunk resumed = Chunk.fromBytes(head.toBytes(), 0, head.sizeBytes());
        appendAll(resumed, ts, vs, k, count);
        if (sealFirst) {
            appendAll(head, ts, vs, k, count); // appending after seal still works
            assertArrayEquals(whole.toBytes(), head.toBytes());
        }
        assertArrayEquals(whole.toBytes(), resumed.toBytes());
        assertSamples(resumed, ts, vs, Math.min(count, Chunk.TARGET_SAMPLES));
    }

    @Property(tries = 200)
    void seekFindsFirstSampleAtOrAfterTarget(@ForAll("timestamps") long[] ts, @ForAll long target,
            @ForAll @IntRange(min = 0, max = 130) int pick) {
        Chunk c = Chunk.create();
        int stored = appendAll(c, ts, new double[ts.length], 0, ts.length);
        long t = stored > 0 && pick < stored ? ts[pick] + (target & 1) - ((target >>> 1) & 1) : target;
        int expected = 0;
        while (expected < stored && ts[expected] < t) {
            expected++;
        }
        SampleIterator it = c.iterator();
        if (expected == stored) {
            assertFalse(it.seek(t));
            assertFalse(it.next());
        } else {
            assertTrue(it.seek(t));
            assertEquals(ts[expected], it.timestamp());
            assertTrue(it.seek(t), "seek to a smaller or equal target stays");
            assertEquals(ts[expected], it.timestamp());
            assertTrue(it.seek(Long.MIN_VALUE));
            assertEquals(ts[expected], it.timestamp());
            assertEquals(expected + 1 < stored, it.next());
        }
    }

    /** Garbage never escapes as anything but IllegalArgumentException, and never hangs. */
    @Property(tries = 500)
    void fromBytesOnGarbageThrowsIllegalArgument(@ForAll byte[] garbage) {
        try {
            Chunk.fromBytes(garbage, 0, garbage.length);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith("corrupt chunk: "), e.getMessage());
        }
    }

    /**
     * Random payloads behind a valid header and a matching CRC reach the bit decoder: it must
     * either accept them (and then the chunk round-trips) or reject them with IllegalArgumentException.
     */
    @Property(tries = 1000)
    void decoderRejectsOrAcceptsRandomPayloadWithValidCrc(@ForAll byte[] payload,
            @ForAll @IntRange(min = 0, max = 0xFFFF) int count, @ForAll boolean intDod) {
        byte[] b = ChunkTest.frame(intDod ? 1 : 0, count, payload);
        Chunk c;
        try {
            c = Chunk.fromBytes(b, 0, b.length);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith("corrupt chunk: "), e.getMessage());
            return;
        }
        assertEquals(count, c.numSamples());
        assertArrayEquals(b, c.toBytes());
        SampleIterator it = c.iterator();
        int seen = 0;
        long prev = Long.MIN_VALUE;
        while (it.next()) {
            if (seen > 0) {
                assertTrue(it.timestamp() > prev);
            }
            prev = it.timestamp();
            seen++;
        }
        assertEquals(count, seen);
    }

    /** Every truncation and every single bit flip of a valid chunk is rejected. */
    @Property(tries = 60)
    void truncatedOrFlippedChunksAreRejected(@ForAll("timestamps") long[] ts, @ForAll("values") double[] vs) {
        Chunk c = Chunk.create();
        appendAll(c, ts, vs, 0, Math.min(ts.length, vs.length));
        byte[] b = c.toBytes();
        for (int len = 0; len < b.length; len++) {
            int l = len;
            expectCorrupt(() -> Chunk.fromBytes(b, 0, l));
        }
        for (int bit = 0; bit < b.length * 8; bit++) {
            byte[] f = b.clone();
            f[bit >>> 3] ^= (byte) (0x80 >>> (bit & 7));
            expectCorrupt(() -> Chunk.fromBytes(f, 0, f.length));
        }
    }

    static void expectCorrupt(Runnable r) {
        try {
            r.run();
            fail("expected IllegalArgumentException");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().startsWith("corrupt chunk: "), e.getMessage());
        }
    }

    /** Appends samples [from, to); returns how many the chunk accepted before it was full. */
    static int appendAll(Chunk c, long[] ts, double[] vs, int from, int to) {
        int stored = 0;
        for (int i = from; i < to; i++) {
            int before = c.numSamples();
            boolean ok = c.append(ts[i], vs[i]);
            assertEquals(before < Chunk.TARGET_SAMPLES, ok);
            if (!ok) {
                break;
            }
            stored++;
        }
        return stored;
    }

    static void assertSamples(Chunk c, long[] ts, double[] vs, int count) {
        assertEquals(count, c.numSamples());
        SampleIterator it = c.iterator();
        for (int i = 0; i < count; i++) {
            assertTrue(it.next(), "sample " + i);
            assertEquals(ts[i], it.timestamp(), "timestamp " + i);
            assertEquals(Double.doubleToRawLongBits(vs[i]), Double.doubleToRawLongBits(it.value()),
                    () -> "value bits of sample " + it.timestamp());
        }
        assertFalse(it.next());
        assertFalse(it.next());
    }
}
