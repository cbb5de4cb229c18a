package io.tsdb.core.chunk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.core.SampleIterator;
import io.tsdb.testing.Fuzz;
import io.tsdb.testing.Gen;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Mutational fuzzing of {@link Chunk#fromBytes} and {@link Chunk#fromSealedBytes} with
 * {@link ChunkIterator}: damaged chunks (CRC repaired in 3 of 4 inputs, so the damage reaches the
 * bit decoder) fail only with {@code IllegalArgumentException("corrupt chunk: ...")}. A chunk that
 * {@code fromBytes} accepts iterates its stated count of strictly increasing samples without error
 * and re-encodes to the same bytes; a sealed chunk (only its first sample checked on load) may
 * fail later, while iterating, but again only with "corrupt chunk". Found inputs:
 * {@code fuzz-corpus/chunk/} and {@code fuzz-corpus/chunk-sealed/}.
 */
class ChunkDecoderFuzzTest {
    static final List<Class<? extends Throwable>> ALLOWED = List.of(IllegalArgumentException.class);

    static byte[] validChunk(Gen g) {
        long[] ts = ChunkProperties.timestamps(g);
        double[] vs = ChunkProperties.values(g);
        Chunk c = Chunk.create();
        ChunkProperties.appendAll(c, ts, vs, 0, Math.min(ts.length, vs.length));
        if (c.numSamples() == 0) {
            c.append(g.anyLong(), g.anyDouble());
        }
        return c.toBytes();
    }

    static byte[] fixChecksum(byte[] b) {
        if (b.length >= Chunk.HEADER_BYTES + Chunk.CRC_BYTES) {
            Fuzz.putCrc32c(b, 0, b.length - Chunk.CRC_BYTES);
        }
        return b;
    }

    /** Rethrows an IllegalArgumentException only if it is the documented "corrupt chunk: ..." one. */
    static void onlyCorruptChunk(IllegalArgumentException e) {
        assertTrue(e.getMessage() != null && e.getMessage().startsWith("corrupt chunk: "), "undocumented " + e);
        throw e;
    }

    static void decode(byte[] in) {
        Chunk c;
        try {
            c = Chunk.fromBytes(in, 0, in.length);
        } catch (IllegalArgumentException e) {
            onlyCorruptChunk(e);
            return;
        }
        SampleIterator it = c.iterator();
        int n = 0;
        long prev = Long.MIN_VALUE;
        while (it.next()) {
            if (n > 0) {
                assertTrue(it.timestamp() > prev, "timestamps not increasing");
            }
            prev = it.timestamp();
            n++;
        }
        assertEquals(c.numSamples(), n);
        assertFalse(it.next());
        assertArrayEquals(in, c.toBytes());
    }

    /** The head chunk log's loader: the stated last timestamp comes from beside the chunk (here: its last 8 input bytes). */
    static void decodeSealed(byte[] in) {
        if (in.length < 8) {
            return;
        }
        long maxT = 0;
        for (int i = in.length - 8; i < in.length; i++) {
            maxT = (maxT << 8) | (in[i] & 0xFF);
        }
        try {
            Chunk c = Chunk.fromSealedBytes(in, 0, in.length - 8, maxT, 0, new Chunk.Slab());
            SampleIterator it = c.iterator();
            int n = 0;
            while (it.next()) {
                n++;
            }
            assertEquals(c.numSamples(), n);
            c.toBytes();
            c.lastValue();
        } catch (IllegalArgumentException e) {
            onlyCorruptChunk(e);
        }
    }

    /** A valid chunk followed by its last timestamp (8 bytes, big-endian), as the head chunk log stores them. */
    static byte[] validSealed(Gen g) {
        byte[] c = validChunk(g);
        long maxT = Chunk.fromBytes(c, 0, c.length).maxTime();
        byte[] out = java.util.Arrays.copyOf(c, c.length + 8);
        for (int i = 0; i < 8; i++) {
            out[c.length + i] = (byte) (maxT >>> (56 - 8 * i));
        }
        return out;
    }

    static byte[] fixSealedChecksum(byte[] b) {
        if (b.length >= Chunk.HEADER_BYTES + Chunk.CRC_BYTES + 8) {
            Fuzz.putCrc32c(b, 0, b.length - 8 - Chunk.CRC_BYTES);
        }
        return b;
    }

    @Test
    void damagedSealedChunksFailOnlyAsCorruptChunks() {
        Fuzz.run(
                "chunk-sealed",
                3000,
                ChunkDecoderFuzzTest::validSealed,
                ChunkDecoderFuzzTest::fixSealedChecksum,
                ChunkDecoderFuzzTest::decodeSealed,
                ALLOWED);
    }

    @TestFactory
    Stream<DynamicTest> sealedCorpus() {
        return Fuzz.corpus(getClass(), "chunk-sealed", ChunkDecoderFuzzTest::decodeSealed, ALLOWED);
    }

    @Test
    void damagedChunksFailOnlyAsCorruptChunks() {
        Fuzz.run(
                "chunk",
                4000,
                ChunkDecoderFuzzTest::validChunk,
                ChunkDecoderFuzzTest::fixChecksum,
                ChunkDecoderFuzzTest::decode,
                ALLOWED);
    }

    @TestFactory
    Stream<DynamicTest> corpus() {
        return Fuzz.corpus(getClass(), "chunk", ChunkDecoderFuzzTest::decode, ALLOWED);
    }
}
