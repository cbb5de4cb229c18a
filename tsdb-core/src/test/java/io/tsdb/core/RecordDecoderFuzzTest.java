package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.testing.Fuzz;
import io.tsdb.testing.Gen;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Mutational fuzzing of the WAL record decoders ({@link RecordCodec#decodeSeries},
 * {@link RecordCodec#decodeSamples}): damaged records fail only with
 * {@link CorruptRecordException}; records carry no CRC of their own (the WAL block's covers
 * them), so every mutation reaches the decoder. Found inputs: {@code fuzz-corpus/wal-records/}.
 */
class RecordDecoderFuzzTest {
    static final String DECODER = "wal-records";
    static final List<Class<? extends Throwable>> ALLOWED = List.of(CorruptRecordException.class);

    static byte[] validRecord(Gen g) {
        ByteSink sink = new ByteSink(16);
        if (g.nextBoolean()) {
            RecordCodec.beginSeries(sink);
            int n = g.intBetween(1, 6);
            int written = 0;
            for (int i = 0; i < n; i++) {
                Map<String, String> m = LabelsProperties.labelMap(g);
                Labels l = Labels.of(m);
                if (l.size() == 0) {
                    continue;
                }
                RecordCodec.addSeries(sink, g.intBetween(0, Integer.MAX_VALUE), l);
                written++;
            }
            if (written == 0) {
                RecordCodec.addSeries(sink, 3, Labels.of("__name__", "up"));
                written = 1;
            }
            RecordCodec.endSeries(sink, written);
        } else {
            int n = g.intBetween(1, 80);
            int[] refs = new int[n];
            long[] ts = new long[n];
            long[] bits = new long[n];
            long base = RecordCodecProperties.timestamp(g);
            for (int i = 0; i < n; i++) {
                refs[i] = g.nextInt(4) == 0 ? Integer.MAX_VALUE - g.nextInt(3) : g.nextInt(100_000);
                ts[i] = g.nextBoolean() ? base + g.nextInt(1_000_000) : RecordCodecProperties.timestamp(g);
                bits[i] = RecordCodecProperties.valueBits(g);
            }
            RecordCodec.encodeSamples(sink, refs, ts, bits, 0, n);
        }
        return Arrays.copyOf(sink.buf, sink.pos);
    }

    static void decode(byte[] in) {
        if (in.length > 0 && RecordCodec.type(in[0]) == RecordCodec.TYPE_SERIES) {
            int[] seen = {0};
            int count = RecordCodec.decodeSeries(new ByteSource(in, 0, in.length), (ref, nv) -> {
                assertTrue(ref >= 0, "ref " + ref);
                assertEquals(0, nv.length % 2);
                seen[0]++;
            });
            assertEquals(count, seen[0]);
        } else {
            RecordCodec.SampleBatch b = new RecordCodec.SampleBatch();
            int n = RecordCodec.decodeSamples(new ByteSource(in, 0, in.length), b);
            assertEquals(n, b.count);
            for (int i = 0; i < n; i++) {
                assertFalse(b.refs[i] < 0, "negative ref");
            }
        }
    }

    @Test
    void damagedRecordsFailOnlyWithCorruptRecordException() {
        Fuzz.run(DECODER, 4000, RecordDecoderFuzzTest::validRecord, null, RecordDecoderFuzzTest::decode, ALLOWED);
    }

    @TestFactory
    Stream<DynamicTest> corpus() {
        return Fuzz.corpus(getClass(), DECODER, RecordDecoderFuzzTest::decode, ALLOWED);
    }
}
