package io.tsdb.core.chunk;

import static io.tsdb.core.chunk.ChunkProperties.appendAll;
import static io.tsdb.core.chunk.ChunkProperties.assertSamples;
import static io.tsdb.core.chunk.ChunkProperties.expectCorrupt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.core.SampleIterator;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

class ChunkTest {

    /** A chunk frame with the given encoding code, count and payload, and a correct CRC32C. */
    static byte[] frame(int encoding, int count, byte[] payload) {
        byte[] b = new byte[Chunk.HEADER_BYTES + payload.length + Chunk.CRC_BYTES];
        b[0] = (byte) Chunk.FORMAT_VERSION;
        b[1] = (byte) encoding;
        b[2] = (byte) (count >>> 8);
        b[3] = (byte) count;
        System.arraycopy(payload, 0, b, Chunk.HEADER_BYTES, payload.length);
        CRC32C crc = new CRC32C();
        crc.update(b, 0, b.length - Chunk.CRC_BYTES);
        int v = (int) crc.getValue();
        int at = b.length - Chunk.CRC_BYTES;
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
        return b;
    }

    static double promValue(int k) {
        return 123456789 + 1000.0 * k;
    }

    /** Bytes per sample of a full chunk of the promtool bench workload (value += 1000, t step 30 s). */
    static double promtoolBytesPerSample(long t0) {
        Chunk c = Chunk.create();
        for (int k = 0; k < Chunk.TARGET_SAMPLES; k++) {
            assertTrue(c.append(t0 + 30_000L * k, promValue(k)));
        }
        assertFalse(c.append(t0 + 30_000L * Chunk.TARGET_SAMPLES, 0));
        assertEquals(Encoding.INT_DOD, c.encoding());
        c.seal();
        assertEquals(c.sizeBytes(), c.toBytes().length);
        return (double) c.sizeBytes() / Chunk.TARGET_SAMPLES;
    }

    @Test
    void promtoolWorkloadStaysUnderTwoBytesPerSample() {
        double fromZero = promtoolBytesPerSample(0);
        double realistic = promtoolBytesPerSample(1_700_000_000_000L);
        System.out.printf(
                "chunk bytes/sample on promtool-like series: t0=0 -> %.4f, t0=1.7e12 ms -> %.4f%n",
                fromZero, realistic);
        assertTrue(fromZero <= 2.0, "bytes/sample " + fromZero);
        assertTrue(realistic <= 2.0, "bytes/sample " + realistic);
        // expected layout: 8 bytes overhead + varints + 2 bits for each of the 118 later samples
        assertTrue(realistic <= 1.4, "goal of 1.4 bytes/sample missed: " + realistic);
    }

    @Test
    void jitteredTimestampsAndNonIntegerValuesFallBackToXor() {
        Random r = new Random(42);
        Chunk c = Chunk.create();
        long t = 1_700_000_000_000L;
        double v = 0.25;
        for (int k = 0; k < Chunk.TARGET_SAMPLES; k++) {
            t += 30_000 + r.nextInt(21) - 10;
            v += r.nextInt(10) * 0.5;
            assertTrue(c.append(t, v));
        }
        assertEquals(Encoding.XOR, c.encoding());
        double bps = (double) c.sizeBytes() / Chunk.TARGET_SAMPLES;
        System.out.printf("chunk bytes/sample, jittered timestamps + half-step float counter: %.3f%n", bps);
        assertTrue(bps < 6, "bytes/sample " + bps);
    }

    @Test
    void switchesFromIntDodToXorAtTheFirstNonIntegerAndKeepsEverySample() {
        for (int at = 0; at < Chunk.TARGET_SAMPLES; at += 7) {
            long[] ts = new long[Chunk.TARGET_SAMPLES];
            double[] vs = new double[Chunk.TARGET_SAMPLES];
            for (int k = 0; k < ts.length; k++) {
                ts[k] = -1_000_000 + 15_000L * k;
                vs[k] = k < at ? promValue(k) : (k == at ? ChunkProperties.SPECIALS[k % 8] : k * 1.5);
            }
            Chunk c = Chunk.create();
            for (int k = 0; k < ts.length; k++) {
                assertTrue(c.append(ts[k], vs[k]));
                assertEquals(k < at ? Encoding.INT_DOD : Encoding.XOR, c.encoding(), "after sample " + k);
            }
            assertSamples(c, ts, vs, ts.length);
            assertSamples(Chunk.fromBytes(c.toBytes(), 0, c.sizeBytes()), ts, vs, ts.length);
        }
    }

    @Test
    void integerDetectionExcludesNegativeZeroHugeAndNonFinite() {
        assertTrue(Chunk.isIntegral(0.0));
        assertTrue(Chunk.isIntegral(-5.0));
        assertTrue(Chunk.isIntegral(9007199254740991.0));
        assertTrue(Chunk.isIntegral(-9007199254740991.0));
        assertFalse(Chunk.isIntegral(9007199254740992.0));
        assertFalse(Chunk.isIntegral(-9007199254740992.0));
        assertFalse(Chunk.isIntegral(-0.0));
        assertFalse(Chunk.isIntegral(Double.NaN));
        assertFalse(Chunk.isIntegral(Double.POSITIVE_INFINITY));
        assertFalse(Chunk.isIntegral(Double.NEGATIVE_INFINITY));
        assertFalse(Chunk.isIntegral(0.5));
        assertFalse(Chunk.isIntegral(Double.MIN_VALUE));
        assertFalse(Chunk.isIntegral(1e300));
    }

    @Test
    void specialValuesSurviveBitExactlyInBothEncodings() {
        double[] sp = ChunkProperties.SPECIALS;
        long[] ts = new long[sp.length];
        for (int k = 0; k < ts.length; k++) {
            ts[k] = Long.MIN_VALUE + k * (Long.MAX_VALUE / sp.length) * 2;
        }
        Chunk c = Chunk.create();
        appendAll(c, ts, sp, 0, sp.length);
        assertEquals(Encoding.XOR, c.encoding());
        assertSamples(c, ts, sp, sp.length);
        assertSamples(Chunk.fromBytes(c.toBytes(), 0, c.sizeBytes()), ts, sp, sp.length);
        double stale = Double.longBitsToDouble(0x7ff0000000000002L);
        Chunk one = Chunk.create();
        one.append(5, stale);
        assertEquals(0x7ff0000000000002L, Double.doubleToRawLongBits(one.lastValue()));
        SampleIterator it = one.iterator();
        assertTrue(it.next());
        assertEquals(0x7ff0000000000002L, Double.doubleToRawLongBits(it.value()));
    }

    @Test
    void extremeTimestampGapsDoNotOverflow() {
        long[] ts = {Long.MIN_VALUE, Long.MIN_VALUE + 1, Long.MAX_VALUE - 1, Long.MAX_VALUE};
        double[] vs = {1, 2, 3, 4};
        Chunk c = Chunk.create();
        appendAll(c, ts, vs, 0, ts.length);
        assertSamples(c, ts, vs, ts.length);
        assertSamples(Chunk.fromBytes(c.toBytes(), 0, c.sizeBytes()), ts, vs, ts.length);
        assertEquals(Long.MIN_VALUE, c.minTime());
        assertEquals(Long.MAX_VALUE, c.maxTime());
    }

    @Test
    void emptyChunk() {
        Chunk c = Chunk.create();
        assertEquals(0, c.numSamples());
        assertEquals(Long.MAX_VALUE, c.minTime());
        assertEquals(Long.MIN_VALUE, c.maxTime());
        assertTrue(Double.isNaN(c.lastValue()));
        assertEquals(Encoding.INT_DOD, c.encoding());
        assertFalse(c.iterator().next());
        assertFalse(c.iterator().seek(Long.MIN_VALUE));
        byte[] b = c.toBytes();
        assertEquals(8, b.length);
        assertEquals(8, c.sizeBytes());
        Chunk back = Chunk.fromBytes(b, 0, b.length);
        assertEquals(0, back.numSamples());
        c.seal();
        assertTrue(c.append(7, 1.5));
        assertTrue(back.append(7, 1.5));
        assertArrayEquals(c.toBytes(), back.toBytes());
    }

    @Test
    void rejectsOutOfOrderAndDuplicateTimestampsWithoutChangingTheChunk() {
        Chunk c = Chunk.create();
        assertTrue(c.append(100, 1));
        byte[] before = c.toBytes();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.append(100, 2));
        assertTrue(e.getMessage().contains("100"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> c.append(99, 0.5));
        assertArrayEquals(before, c.toBytes());
        assertEquals(Encoding.INT_DOD, c.encoding());
        assertTrue(c.append(101, 3));
    }

    @Test
    void fullChunkReturnsFalseAndStaysUnchanged() {
        Chunk c = Chunk.create();
        for (int k = 0; k < Chunk.TARGET_SAMPLES; k++) {
            assertTrue(c.append(k, k));
        }
        byte[] b = c.toBytes();
        assertFalse(c.append(1000, 0.5));
        assertEquals(Chunk.TARGET_SAMPLES, c.numSamples());
        assertEquals(Encoding.INT_DOD, c.encoding());
        assertArrayEquals(b, c.toBytes());
    }

    @Test
    void headerErrorsNameTheProblem() {
        Chunk c = Chunk.create();
        c.append(1, 1);
        c.append(2, 2.5);
        byte[] b = c.toBytes();
        assertMessage("shorter than header", () -> Chunk.fromBytes(new byte[5], 0, 5));
        assertMessage("range", () -> Chunk.fromBytes(b, 2, b.length));
        assertMessage("range", () -> Chunk.fromBytes(b, -1, 3));
        byte[] v = b.clone();
        v[0] = 9;
        assertMessage("format version 9", () -> Chunk.fromBytes(v, 0, v.length));
        byte[] crc = b.clone();
        crc[5] ^= 1;
        assertMessage("CRC32C mismatch", () -> Chunk.fromBytes(crc, 0, crc.length));
        byte[] payload = Arrays.copyOfRange(b, Chunk.HEADER_BYTES, b.length - Chunk.CRC_BYTES);
        assertMessage("unknown encoding code 7", () -> fromFrame(frame(7, 2, payload)));
        assertMessage("truncated", () -> fromFrame(frame(0, 100, payload)));
        assertMessage("but the payload has", () -> fromFrame(frame(0, 1, payload)));
        byte[] longer = Arrays.copyOf(payload, payload.length + 1);
        assertMessage("but the payload has", () -> fromFrame(frame(0, 2, longer)));
        // last payload bit set beyond the encoded samples
        byte[] pad = payload.clone();
        pad[pad.length - 1] |= 1;
        assertMessage("padding", () -> fromFrame(frame(0, 2, pad)));
        // a varint of eleven 0xFF bytes
        byte[] varint = new byte[16];
        Arrays.fill(varint, (byte) 0xFF);
        assertMessage("varint", () -> fromFrame(frame(1, 1, varint)));
        // 65535 samples claimed by a 2-byte payload of zero timestamps: stops at the second sample
        assertMessage("corrupt chunk", () -> fromFrame(frame(1, 0xFFFF, new byte[2])));
    }

    private static Chunk fromFrame(byte[] f) {
        return Chunk.fromBytes(f, 0, f.length);
    }

    private static void assertMessage(String part, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().startsWith("corrupt chunk: "), e.getMessage());
        assertTrue(e.getMessage().contains(part), () -> "'" + e.getMessage() + "' should mention '" + part + "'");
    }

    @Test
    void truncationsAndGarbageOfARealChunkAreRejected() {
        Chunk c = Chunk.create();
        for (int k = 0; k < Chunk.TARGET_SAMPLES; k++) {
            c.append(1_700_000_000_000L + 30_000L * k, k < 60 ? promValue(k) : k / 3.0);
        }
        byte[] b = c.toBytes();
        for (int len = 0; len < b.length; len++) {
            int l = len;
            expectCorrupt(() -> Chunk.fromBytes(b, 0, l));
        }
        // every truncation of the payload behind a recomputed CRC: the decoder itself must notice
        byte[] payload = Arrays.copyOfRange(b, Chunk.HEADER_BYTES, b.length - Chunk.CRC_BYTES);
        for (int len = 0; len < payload.length; len++) {
            byte[] f = frame(Encoding.XOR.code(), Chunk.TARGET_SAMPLES, Arrays.copyOf(payload, len));
            expectCorrupt(() -> fromFrame(f));
        }
        Random r = new Random(7);
        for (int i = 0; i < 2000; i++) {
            byte[] g = new byte[r.nextInt(300)];
            r.nextBytes(g);
            try {
                fromFrame(frame(r.nextInt(2), r.nextInt(0x10000), g));
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage().startsWith("corrupt chunk: "));
            }
        }
    }

    @Test
    void sealTrimsButKeepsContentAndIteratorsAlive() {
        Chunk c = Chunk.create();
        long[] ts = new long[50];
        double[] vs = new double[50];
        for (int k = 0; k < 50; k++) {
            ts[k] = k * 10L;
            vs[k] = Math.sqrt(k);
        }
        appendAll(c, ts, vs, 0, 50);
        SampleIterator before = c.iterator();
        int size = c.sizeBytes();
        c.seal();
        assertEquals(size, c.sizeBytes());
        assertSamples(c, ts, vs, 50);
        int seen = 0;
        while (before.next()) {
            assertEquals(ts[seen], before.timestamp());
            seen++;
        }
        assertEquals(50, seen);
    }

    /**
     * A writer fills chunk after chunk (some switching INT_DOD to XOR midway) while readers iterate
     * and serialise the chunk being written: every reader sees a consistent prefix.
     */
    @Test
    void concurrentReadersSeeConsistentPrefixWhileWriterAppends() throws Exception {
        int chunks = Boolean.getBoolean("tsdb.long") ? 20_000 : 1_000;
        AtomicReference<Chunk> current = new AtomicReference<>(Chunk.create());
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Runnable reader = () -> {
            try {
                long checks = 0;
                while (!done.get() || checks == 0) {
                    Chunk c = current.get();
                    int min = c.numSamples();
                    SampleIterator it = c.iterator();
                    int seen = 0;
                    while (it.next()) {
                        assertEquals(expectedT(seen), it.timestamp());
                        assertEquals(
                                Double.doubleToRawLongBits(expectedV(c.hashCode(), seen)),
                                Double.doubleToRawLongBits(it.value()));
                        seen++;
                    }
                    assertTrue(seen >= min && seen <= c.numSamples(), "snapshot " + seen + " vs " + min);
                    if ((checks & 3) == 0) {
                        byte[] b = c.toBytes();
                        Chunk copy = Chunk.fromBytes(b, 0, b.length);
                        SampleIterator ci = copy.iterator();
                        int k = 0;
                        while (ci.next()) {
                            assertEquals(expectedT(k), ci.timestamp());
                            assertEquals(
                                    Double.doubleToRawLongBits(expectedV(c.hashCode(), k)),
                                    Double.doubleToRawLongBits(ci.value()));
                            k++;
                        }
                        assertTrue(k >= min);
                    }
                    checks++;
                }
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        };
        Thread r1 = new Thread(reader, "chunk-reader-1");
        Thread r2 = new Thread(reader, "chunk-reader-2");
        r1.start();
        r2.start();
        try {
            for (int i = 0; i < chunks && failure.get() == null; i++) {
                Chunk c = Chunk.create();
                current.set(c);
                int h = c.hashCode();
                for (int k = 0; k < Chunk.TARGET_SAMPLES; k++) {
                    assertTrue(c.append(expectedT(k), expectedV(h, k)));
                    if ((k & 15) == 0) {
                        Thread.yield();
                    }
                }
                c.seal();
            }
        } finally {
            done.set(true);
            r1.join();
            r2.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("reader failed", failure.get());
        }
    }

    private static long expectedT(int k) {
        return 1_000_000L + 30_000L * k;
    }

    /** Integer values; for a third of the chunks a non-integer at a chunk-specific position forces the XOR switch. */
    private static double expectedV(int chunkHash, int k) {
        int switchAt = (chunkHash & 0x7FFFFFFF) % 360;
        if (switchAt < Chunk.TARGET_SAMPLES && k >= switchAt) {
            return k == switchAt ? Double.longBitsToDouble(0x7ff0000000000002L) : k + 0.125;
        }
        return 1000.0 * k;
    }

    @Test
    void iteratorIsEmptyConstantForEmptyChunk() {
        assertSame(SampleIterator.EMPTY, Chunk.create().iterator());
    }

    /** Chunks packed into one slab read, re-encode and grow exactly like chunks with their own arrays. */
    @Test
    void sealedChunksInASharedSlabBehaveLikeOwnArrays() {
        Random r = new Random(11);
        Chunk.Slab slab = new Chunk.Slab();
        Chunk[] originals = new Chunk[40];
        Chunk[] packed = new Chunk[40];
        for (int k = 0; k < originals.length; k++) {
            Chunk c = Chunk.create();
            long t = r.nextInt(1000);
            int n = 1 + r.nextInt(Chunk.TARGET_SAMPLES);
            for (int i = 0; i < n; i++) {
                t += 1 + r.nextInt(k % 2 == 0 ? 5 : 100_000);
                double v = k % 3 == 0 ? r.nextDouble() : (double) r.nextInt(1000);
                assertTrue(c.append(t, v));
            }
            c.seal();
            originals[k] = c;
            byte[] b = c.toBytes();
            byte[] padded = new byte[b.length + 10];
            System.arraycopy(b, 0, padded, 5, b.length);
            packed[k] = Chunk.fromSealedBytes(
                    padded, 5, b.length, c.maxTime(), Double.doubleToRawLongBits(c.lastValue()), slab);
        }
        for (int k = 0; k < originals.length; k++) {
            Chunk o = originals[k];
            Chunk p = packed[k];
            assertArrayEquals(o.toBytes(), p.toBytes(), "chunk " + k);
            assertEquals(o.minTime(), p.minTime());
            assertEquals(o.maxTime(), p.maxTime());
            assertEquals(o.numSamples(), p.numSamples());
            assertEquals(o.sizeBytes(), p.sizeBytes());
            SampleIterator a = o.iterator();
            SampleIterator b = p.iterator();
            while (a.next()) {
                assertTrue(b.next());
                assertEquals(a.timestamp(), b.timestamp());
                assertEquals(Double.doubleToRawLongBits(a.value()), Double.doubleToRawLongBits(b.value()));
            }
            assertFalse(b.next());
        }
        // appending to a packed chunk rebuilds its encoder from the slab slice and leaves its neighbours intact
        for (int k = 0; k < packed.length; k++) {
            if (packed[k].numSamples() < Chunk.TARGET_SAMPLES) {
                long t = packed[k].maxTime() + 7;
                assertTrue(packed[k].append(t, 42.5));
                assertTrue(originals[k].append(t, 42.5));
                assertArrayEquals(originals[k].toBytes(), packed[k].toBytes(), "chunk " + k + " after an append");
            }
        }
        for (int k = 0; k < packed.length; k++) {
            assertArrayEquals(originals[k].toBytes(), packed[k].toBytes(), "chunk " + k + " after its neighbours grew");
        }
        // loaded without the last value: decoded on first use, bit-exact
        for (Chunk o : originals) {
            byte[] b = o.toBytes();
            Chunk lazy = Chunk.fromSealedBytes(b, 0, b.length, o.maxTime(), slab);
            assertEquals(Double.doubleToRawLongBits(o.lastValue()), Double.doubleToRawLongBits(lazy.lastValue()));
            assertEquals(Double.doubleToRawLongBits(o.lastValue()), Double.doubleToRawLongBits(lazy.lastValue()));
        }
        byte[] bad = originals[0].toBytes();
        bad[bad.length - 1] ^= 1;
        assertThrows(
                IllegalArgumentException.class,
                () -> Chunk.fromSealedBytes(bad, 0, bad.length, originals[0].maxTime(), 0, slab));
    }
}
