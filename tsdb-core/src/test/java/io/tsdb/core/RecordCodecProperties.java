package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.testing.Gen;
import io.tsdb.testing.Seeds;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RecordCodecProperties {

    /** Any long, a small non-negative one, or an edge of the timestamp range. */
    static long timestamp(Gen g) {
        return switch (g.nextInt(3)) {
            case 0 -> g.anyLong();
            case 1 -> g.longBetween(0, 10_000_000);
            default -> g.oneOf(Long.MIN_VALUE + 1, Long.MAX_VALUE - 1, 0L, -1L);
        };
    }

    /** Any bits, a double's bits, a round integer's bits, or a special value (stale marker, NaN payloads, -0.0, ±Inf). */
    static long valueBits(Gen g) {
        return switch (g.nextInt(4)) {
            case 0 -> g.anyLong();
            case 1 -> Double.doubleToRawLongBits(g.anyDouble());
            case 2 -> Double.doubleToRawLongBits(g.intBetween(-1000, 100000) * 1000.0);
            default ->
                g.oneOf(
                        Sample.STALE_NAN_BITS,
                        Double.doubleToRawLongBits(Double.NaN),
                        0x7ff8dead0000beefL,
                        Double.doubleToRawLongBits(-0.0),
                        Double.doubleToRawLongBits(Double.POSITIVE_INFINITY),
                        Double.doubleToRawLongBits(Double.NEGATIVE_INFINITY),
                        0L);
        };
    }

    @Test
    void samplesRoundTrip() {
        Seeds.check(500, g -> {
            List<Long> pool = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                pool.add(valueBits(g));
            }
            samplesRoundTrip(g.intBetween(1, 300), timestamp(g), g.anyLong(), pool);
        });
    }

    private static void samplesRoundTrip(int n, long base, long seed, List<Long> pool) {
        Random r = new Random(seed);
        int[] refs = new int[n];
        long[] ts = new long[n];
        long[] bits = new long[n];
        for (int i = 0; i < n; i++) {
            refs[i] = r.nextInt(4) == 0 ? Integer.MAX_VALUE - r.nextInt(3) : r.nextInt(100_000);
            ts[i] = switch (r.nextInt(4)) {
                case 0 -> base;
                case 1 -> base + r.nextInt(1_000_000);
                case 2 -> r.nextLong();
                default -> base - r.nextInt(1000);
            };
            bits[i] = r.nextBoolean() && i > 0 ? bits[i - 1] : pool.get(r.nextInt(pool.size()));
        }
        ByteSink sink = new ByteSink(16);
        RecordCodec.encodeSamples(sink, refs, ts, bits, 0, n);
        assertEquals(RecordCodec.TYPE_SAMPLES, RecordCodec.type(sink.buf[0]));
        RecordCodec.SampleBatch b = new RecordCodec.SampleBatch();
        assertEquals(n, RecordCodec.decodeSamples(new ByteSource(sink.buf, 0, sink.pos), b));
        assertArrayEquals(refs, Arrays.copyOf(b.refs, n));
        assertArrayEquals(ts, Arrays.copyOf(b.ts, n));
        assertArrayEquals(bits, Arrays.copyOf(b.bits, n));
    }

    @Test
    void promtoolShapedRecordIsSmall() {
        // 250 series of one shard (refs step 4), one timestamp, equal values: ~3 bytes/sample before LZ4
        int n = 250;
        int[] refs = new int[n];
        long[] ts = new long[n];
        long[] bits = new long[n];
        for (int i = 0; i < n; i++) {
            refs[i] = 4 * i + 1;
            ts[i] = 1_700_000_000_000L;
            bits[i] = Double.doubleToRawLongBits(123000.0);
        }
        ByteSink sink = new ByteSink(16);
        RecordCodec.encodeSamples(sink, refs, ts, bits, 0, n);
        assertTrue(sink.pos <= 3 * n + 20, "record of " + sink.pos + " bytes");
    }

    @Test
    void seriesRoundTrip() {
        Seeds.check(300, g -> seriesRoundTrip(g.intBetween(1, 20), g.anyLong()));
    }

    private static void seriesRoundTrip(int n, long seed) {
        Random r = new Random(seed);
        ByteSink sink = new ByteSink(16);
        RecordCodec.beginSeries(sink);
        List<Integer> refs = new ArrayList<>();
        List<Labels> labels = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int ref = r.nextInt(Integer.MAX_VALUE);
            Labels l = Labels.of("__name__", "m" + r.nextInt(100), "v", "é€\uD83D\uDE00" + r.nextInt(), "z", "" + i);
            RecordCodec.addSeries(sink, ref, l);
            refs.add(ref);
            labels.add(l);
        }
        RecordCodec.endSeries(sink, n);
        List<Integer> gotRefs = new ArrayList<>();
        List<Labels> gotLabels = new ArrayList<>();
        int count = RecordCodec.decodeSeries(new ByteSource(sink.buf, 0, sink.pos), (ref, nv) -> {
            gotRefs.add(ref);
            gotLabels.add(Labels.ofSortedTrusted(nv));
        });
        assertEquals(n, count);
        assertEquals(refs, gotRefs);
        assertEquals(labels, gotLabels);
        for (int i = 0; i < n; i++) {
            assertEquals(labels.get(i).hash(), gotLabels.get(i).hash());
        }
    }

    /** Any damage to a record yields CorruptRecordException or a (different) valid decode, never another exception or a huge allocation. */
    @Test
    void damagedRecordsFailCleanly() {
        Seeds.check(1000, g -> damagedRecordsFailCleanly(g.anyLong(), g.bool()));
    }

    private static void damagedRecordsFailCleanly(long seed, boolean series) {
        Random r = new Random(seed);
        ByteSink sink = new ByteSink(16);
        if (series) {
            RecordCodec.beginSeries(sink);
            RecordCodec.addSeries(sink, 5, Labels.of("a", "b", "c", "d"));
            RecordCodec.addSeries(sink, 9, Labels.of("a", "x"));
            RecordCodec.endSeries(sink, 2);
        } else {
            int n = 1 + r.nextInt(50);
            int[] refs = new int[n];
            long[] ts = new long[n];
            long[] bits = new long[n];
            for (int i = 0; i < n; i++) {
                refs[i] = r.nextInt(1000);
                ts[i] = r.nextLong();
                bits[i] = r.nextLong();
            }
            RecordCodec.encodeSamples(sink, refs, ts, bits, 0, n);
        }
        byte[] b = Arrays.copyOf(sink.buf, sink.pos);
        int len = b.length;
        switch (r.nextInt(4)) {
            case 0 -> b[r.nextInt(len)] ^= (byte) (1 << r.nextInt(8));
            case 1 -> len = r.nextInt(len);
            case 2 -> {
                for (int i = 1 + r.nextInt(len - 1); i < len; i++) {
                    b[i] = (byte) r.nextInt();
                }
            }
            default -> {
                b = Arrays.copyOf(b, len + 1 + r.nextInt(10));
                len = b.length;
            }
        }
        try {
            if (series) {
                RecordCodec.decodeSeries(new ByteSource(b, 0, len), (ref, nv) -> {});
            } else {
                RecordCodec.decodeSamples(new ByteSource(b, 0, len), new RecordCodec.SampleBatch());
            }
        } catch (CorruptRecordException expected) {
            // fine
        }
    }

    @Test
    void hostileCountsDoNotAllocate() {
        ByteSink sink = new ByteSink(16);
        sink.writeByte(RecordCodec.SAMPLES_V1);
        sink.uvarint(Integer.MAX_VALUE);
        assertThrows(
                CorruptRecordException.class,
                () -> RecordCodec.decodeSamples(new ByteSource(sink.buf, 0, sink.pos), new RecordCodec.SampleBatch()));
        sink.reset();
        sink.writeByte(RecordCodec.SERIES_V1);
        sink.uvarint(Long.MAX_VALUE);
        assertThrows(
                CorruptRecordException.class,
                () -> RecordCodec.decodeSeries(new ByteSource(sink.buf, 0, sink.pos), (ref, nv) -> {}));
        sink.reset();
        sink.writeByte(0x71); // unknown type
        assertThrows(
                CorruptRecordException.class,
                () -> RecordCodec.decodeSamples(new ByteSource(sink.buf, 0, sink.pos), new RecordCodec.SampleBatch()));
        sink.reset();
        sink.writeByte(0x22); // SAMPLES version 2: not understood
        sink.uvarint(1);
        assertThrows(
                CorruptRecordException.class,
                () -> RecordCodec.decodeSamples(new ByteSource(sink.buf, 0, sink.pos), new RecordCodec.SampleBatch()));
    }
}
