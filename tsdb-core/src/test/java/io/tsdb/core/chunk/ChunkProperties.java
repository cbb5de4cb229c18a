package io.tsdb.core.chunk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tsdb.core.SampleIterator;
import io.tsdb.testing.Gen;
import io.tsdb.testing.Seeds;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Randomised round trips and robustness of {@link Chunk}. */
class ChunkProperties {

    /** Special doubles that must survive bit-exactly. */
    static final double[] SPECIALS = {
        Double.longBitsToDouble(0x7ff0000000000002L), // Prometheus stale marker (signalling NaN)
        Double.NaN,
        Double.longBitsToDouble(0xfff8000000000001L),
        Double.longBitsToDouble(0x7ff0000000000001L),
        Double.longBitsToDouble(0x7fffffffffffffffL),
        Double.POSITIVE_INFINITY,
        Double.NEGATIVE_INFINITY,
        -0.0,
        0.0,
        Double.MIN_VALUE,
        -Double.MIN_VALUE,
        Double.MAX_VALUE,
        -Double.MAX_VALUE,
        Double.MIN_NORMAL,
        9007199254740991.0,
        -9007199254740991.0,
        9007199254740992.0,
        -9007199254740992.0,
        0.5,
        1e300,
        (double) Long.MAX_VALUE,
        (double) Long.MIN_VALUE,
    };

    /**
     * Sample timestamps, weighted 3:4:3:1: any sorted distinct longs; a regular grid (start within
     * ±4e12, step 1..120000, optional jitter); random gaps from 1 to 2^62 until Long.MAX_VALUE; or
     * one of the extreme sets (MIN_VALUE, MAX_VALUE and their neighbours). 0..130 samples.
     */
    static long[] timestamps(Gen g) {
        switch (g.weighted(3, 4, 3, 1)) {
            case 0 -> {
                int n = g.size(0, 130);
                java.util.TreeSet<Long> set = new java.util.TreeSet<>();
                for (int i = 0; i < n; i++) {
                    set.add(g.anyLong());
                }
                return set.stream().mapToLong(Long::longValue).toArray();
            }
            case 1 -> {
                long start = g.longBetween(-4_000_000_000_000L, 4_000_000_000_000L);
                long step = g.longBetween(1, 120_000);
                int count = g.intBetween(0, 130);
                Random r = new Random(g.anyLong());
                boolean jitter = r.nextBoolean();
                long[] ts = new long[count];
                for (int i = 0; i < count; i++) {
                    ts[i] = start + i * step + (jitter ? (long) (r.nextDouble() * step * 0.999) : 0);
                }
                return ts;
            }
            case 2 -> {
                long start = g.anyLong();
                int count = g.intBetween(0, 130);
                Random r = new Random(g.anyLong());
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
            }
            default -> {
                return g.oneOf(
                                new long[] {Long.MIN_VALUE, Long.MAX_VALUE},
                                new long[] {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE},
                                new long[] {Long.MIN_VALUE, Long.MIN_VALUE + 1, Long.MAX_VALUE - 1, Long.MAX_VALUE},
                                new long[] {Long.MIN_VALUE, 0, 1, Long.MAX_VALUE},
                                new long[] {-5, Long.MAX_VALUE - 3, Long.MAX_VALUE - 2, Long.MAX_VALUE})
                        .clone();
            }
        }
    }

    /** One value, weighted 3:2:2:2:2:1: any bits, a special, a 53-bit integer, a small integer, a decimal, any double. */
    static double mixedValue(Gen g) {
        return switch (g.weighted(3, 2, 2, 2, 2, 1)) {
            case 0 -> Double.longBitsToDouble(g.anyLong());
            case 1 -> SPECIALS[g.nextInt(SPECIALS.length)];
            case 2 -> intValue(g);
            case 3 -> smallInt(g);
            case 4 -> g.intBetween(-100000, 100000) / 100.0;
            default -> g.anyDouble();
        };
    }

    static double intValue(Gen g) {
        return (double) g.longBetween(-ChunkIterator.MAX_INT_VALUE, ChunkIterator.MAX_INT_VALUE);
    }

    static double smallInt(Gen g) {
        return (double) g.intBetween(-1000, 1000);
    }

    static double anyInt(Gen g) {
        return g.nextBoolean() ? intValue(g) : smallInt(g);
    }

    static double[] array(Gen g, java.util.function.ToDoubleFunction<Gen> element) {
        double[] a = new double[g.size(0, 130)];
        for (int i = 0; i < a.length; i++) {
            a[i] = element.applyAsDouble(g);
        }
        return a;
    }

    /**
     * Sample values, one of: a mix of everything; integers only; integers then a mix (the
     * INT_DOD -> XOR switch at every position); a counter (start ±1e6, increments 0..5000).
     */
    static double[] values(Gen g) {
        switch (g.nextInt(4)) {
            case 0 -> {
                return array(g, ChunkProperties::mixedValue);
            }
            case 1 -> {
                return array(g, ChunkProperties::anyInt);
            }
            case 2 -> {
                double[] a = array(g, ChunkProperties::anyInt);
                double[] b = array(g, ChunkProperties::mixedValue);
                double[] r = Arrays.copyOf(a, a.length + b.length);
                System.arraycopy(b, 0, r, a.length, b.length);
                return r;
            }
            default -> {
                long start = g.longBetween(-1_000_000, 1_000_000);
                int inc = g.intBetween(0, 5000);
                Random r = new Random(g.anyLong());
                int count = g.intBetween(0, 130);
                double[] v = new double[count];
                long x = start;
                for (int i = 0; i < count; i++) {
                    v[i] = x;
                    x += r.nextBoolean() ? inc : r.nextInt(inc + 1);
                }
                return v;
            }
        }
    }

    @Test
    void roundTripsEverySample() {
        Seeds.check(300, g -> roundTripsEverySample(timestamps(g), values(g)));
    }

    private static void roundTripsEverySample(long[] ts, double[] vs) {
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
    @Test
    void restoredChunkContinuesIdentically() {
        Seeds.check(
                200, g -> restoredChunkContinuesIdentically(timestamps(g), values(g), g.intBetween(0, 130), g.bool()));
    }

    private static void restoredChunkContinuesIdentically(long[] ts, double[] vs, int split, boolean sealFirst) {
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

    @Test
    void seekFindsFirstSampleAtOrAfterTarget() {
        Seeds.check(200, g -> seekFindsFirstSampleAtOrAfterTarget(timestamps(g), g.anyLong(), g.intBetween(0, 130)));
    }

    private static void seekFindsFirstSampleAtOrAfterTarget(long[] ts, long target, int pick) {
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
    @Test
    void fromBytesOnGarbageThrowsIllegalArgument() {
        Seeds.check(500, g -> fromBytesOnGarbage(g.bytes(0, 255)));
    }

    private static void fromBytesOnGarbage(byte[] garbage) {
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
    @Test
    void decoderRejectsOrAcceptsRandomPayloadWithValidCrc() {
        Seeds.check(1000, g -> randomPayloadWithValidCrc(g.bytes(0, 255), g.intBetween(0, 0xFFFF), g.bool()));
    }

    private static void randomPayloadWithValidCrc(byte[] payload, int count, boolean intDod) {
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
    @Test
    void truncatedOrFlippedChunksAreRejected() {
        Seeds.check(60, g -> truncatedOrFlippedChunksAreRejected(timestamps(g), values(g)));
    }

    private static void truncatedOrFlippedChunksAreRejected(long[] ts, double[] vs) {
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
            assertEquals(
                    Double.doubleToRawLongBits(vs[i]),
                    Double.doubleToRawLongBits(it.value()),
                    () -> "value bits of sample " + it.timestamp());
        }
        assertFalse(it.next());
        assertFalse(it.next());
    }
}
