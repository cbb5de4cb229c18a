package io.tsdb.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tsdb.testing.Fuzz;
import io.tsdb.testing.Gen;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Mutational fuzzing of {@link BlockCodec#decode}: damaged blocks (CRC repaired in 3 of 4 inputs,
 * so the damage reaches the header checks, the LZ4 decompressor and the record framing) fail only
 * with {@link CorruptBlockException}, within {@link Fuzz#PER_INPUT}; a block that decodes hands out
 * exactly its header's record count. Found inputs live in {@code fuzz-corpus/wal-block/}.
 */
class BlockDecoderFuzzTest {
    static final String DECODER = "wal-block";
    static final List<Class<? extends Throwable>> ALLOWED = List.of(CorruptBlockException.class);

    /** A valid block: ordinary (compressed or not, 1..60 records) or a gap block. */
    static byte[] validBlock(Gen g) {
        BlockCodec.Encoder enc = new BlockCodec.Encoder();
        int len;
        if (g.nextInt(8) == 0) {
            len = enc.encodeGap(g.longBetween(0, 1L << 40), 0, g.intBetween(1, 1000));
        } else {
            List<byte[]> recs = BlockCodecProperties.recordLists(g);
            byte[] payload = BlockCodecProperties.frame(recs);
            long first = g.longBetween(0, 1L << 40);
            len = enc.encode(payload, payload.length, first, first, recs.size(), 1, 2, g.nextInt(3) != 0);
        }
        return Arrays.copyOf(enc.out(), len);
    }

    /** Recomputes the CRC32C at byte 52 over the header and the stored payload its (possibly damaged) header states. */
    static byte[] fixChecksum(byte[] b) {
        if (b.length < BlockCodec.HEADER_BYTES) {
            return b;
        }
        ByteBuffer bb = ByteBuffer.wrap(b);
        int stored = bb.getInt(32);
        int payload =
                stored < 0 || stored > b.length - BlockCodec.HEADER_BYTES ? b.length - BlockCodec.HEADER_BYTES : stored;
        CRC32C crc = new CRC32C();
        crc.update(b, 0, 52);
        crc.update(b, BlockCodec.HEADER_BYTES, payload);
        bb.putInt(52, (int) crc.getValue());
        return b;
    }

    static void decode(byte[] in) throws Exception {
        long[] n = {0};
        BlockCodec.Header h = BlockCodec.decode(ByteBuffer.wrap(in), (off, rec) -> {
            n[0]++;
            rec.get(new byte[rec.remaining()]);
        });
        assertEquals(h.gap() ? 0 : h.recordCount, n[0], "records handed out");
    }

    @Test
    void damagedBlocksFailOnlyWithCorruptBlockException() {
        Fuzz.run(
                DECODER,
                3000,
                BlockDecoderFuzzTest::validBlock,
                BlockDecoderFuzzTest::fixChecksum,
                BlockDecoderFuzzTest::decode,
                ALLOWED);
    }

    @TestFactory
    Stream<DynamicTest> corpus() {
        return Fuzz.corpus(getClass(), DECODER, BlockDecoderFuzzTest::decode, ALLOWED);
    }
}
