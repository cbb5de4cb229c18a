package io.tsdb.wal;

import static org.junit.jupiter.api.Assertions.*;

import io.tsdb.testing.Gen;
import io.tsdb.testing.Seeds;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class BlockCodecProperties {

    /** 1..60 records, each random bytes (0..600) or a repetitive, compressible run (0..3000). */
    static List<byte[]> recordLists(Gen g) {
        return g.listOf(1, 60, x -> {
            if (x.nextBoolean()) return x.bytes(0, 600);
            int n = x.intBetween(0, 3000);
            byte[] a = new byte[n];
            for (int i = 0; i < n; i++) a[i] = (byte) ("sample-metric{job=x}".charAt(i % 20));
            return a;
        });
    }

    static byte[] frame(List<byte[]> recs) {
        int len = 0;
        for (byte[] r : recs) len += BlockCodec.varintSize(r.length) + r.length;
        byte[] p = new byte[len];
        int at = 0;
        for (byte[] r : recs) {
            at = BlockCodec.putVarint(p, at, r.length);
            System.arraycopy(r, 0, p, at, r.length);
            at += r.length;
        }
        return p;
    }

    @Test
    void encodeDecodeRoundTrip() {
        Seeds.check(
                300,
                g -> encodeDecodeRoundTrip(
                        recordLists(g), g.longBetween(0, Long.MAX_VALUE / 2), g.anyLong(), g.anyLong(), g.bool()));
    }

    private static void encodeDecodeRoundTrip(
            List<byte[]> recs, long firstOffset, long attrA, long attrB, boolean compress) throws Exception {
        byte[] payload = frame(recs);
        long mn = Math.min(attrA, attrB), mx = Math.max(attrA, attrB);
        BlockCodec.Encoder enc = new BlockCodec.Encoder();
        int len = enc.encode(payload, payload.length, firstOffset, firstOffset, recs.size(), mn, mx, compress);
        byte[] block = Arrays.copyOf(enc.out(), len);
        List<byte[]> got = new ArrayList<>();
        List<Long> offs = new ArrayList<>();
        BlockCodec.Header h = BlockCodec.decode(ByteBuffer.wrap(block), (off, b) -> {
            byte[] a = new byte[b.remaining()];
            b.get(a);
            got.add(a);
            offs.add(off);
        });
        assertEquals(recs.size(), got.size());
        for (int i = 0; i < recs.size(); i++) {
            assertArrayEquals(recs.get(i), got.get(i));
            assertEquals(firstOffset + i, offs.get(i));
        }
        assertEquals(mn, h.minAttribute);
        assertEquals(mx, h.maxAttribute);
        assertEquals(payload.length, h.rawLength);
        if (h.compressed()) assertTrue(h.storedLength <= payload.length - payload.length / 8);
        if (!compress) assertFalse(h.compressed());
    }

    @Test
    void anySingleBitFlipIsDetected() {
        Seeds.check(300, g -> anySingleBitFlipIsDetected(recordLists(g), g.bool(), g.anyNonNegativeInt()));
    }

    private static void anySingleBitFlipIsDetected(List<byte[]> recs, boolean compress, int where) throws Exception {
        byte[] payload = frame(recs);
        BlockCodec.Encoder enc = new BlockCodec.Encoder();
        int len = enc.encode(payload, payload.length, 7, 0, recs.size(), 1, 2, compress);
        byte[] block = Arrays.copyOf(enc.out(), len);
        int bit = where % (len * 8);
        block[bit / 8] ^= (byte) (1 << (bit % 8));
        assertThrows(CorruptBlockException.class, () -> BlockCodec.decode(ByteBuffer.wrap(block), (o, b) -> {}));
    }

    /** Hostile frames: header/payload bytes overwritten, CRC fixed up. Only CorruptBlockException (or a valid decode). */
    @Test
    void hostileFramesWithFixedCrcOnlyThrowCorruptBlockException() {
        Seeds.check(1000, g -> hostileFrame(recordLists(g), g.bool(), g.intBetween(1, 6), g.anyLong()));
    }

    private static void hostileFrame(List<byte[]> recs, boolean compress, int edits, long seed) throws Exception {
        byte[] payload = frame(recs);
        BlockCodec.Encoder enc = new BlockCodec.Encoder();
        int len = enc.encode(payload, payload.length, 7, 0, recs.size(), 1, 2, compress);
        byte[] block = Arrays.copyOf(enc.out(), len);
        java.util.Random rnd = new java.util.Random(seed);
        ByteBuffer bb = ByteBuffer.wrap(block);
        for (int e = 0; e < edits; e++) {
            switch (rnd.nextInt(6)) {
                case 0 -> bb.putInt(24, rnd.nextBoolean() ? rnd.nextInt() : recs.size() + rnd.nextInt(3) - 1); // count
                case 1 ->
                    bb.putInt(
                            28, rnd.nextBoolean() ? Integer.MAX_VALUE - rnd.nextInt(16) : rnd.nextInt()); // raw length
                case 2 ->
                    bb.putInt(
                            32,
                            rnd.nextBoolean() ? Integer.MAX_VALUE - rnd.nextInt(16) : rnd.nextInt()); // stored length
                case 3 -> block[5] = (byte) rnd.nextInt(4); // flags
                case 4 -> {
                    if (len > 56) block[56 + rnd.nextInt(len - 56)] = (byte) rnd.nextInt();
                } // payload
                default -> block[rnd.nextInt(52)] = (byte) rnd.nextInt(); // any header byte
            }
        }
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(block, 0, 52);
        crc.update(block, 56, len - 56);
        bb.putInt(52, (int) crc.getValue());
        try {
            long[] n = {0};
            BlockCodec.Header h = BlockCodec.decode(ByteBuffer.wrap(block), (o, b) -> n[0]++);
            assertEquals(h.recordCount, n[0]);
        } catch (CorruptBlockException expected) {
            // the only acceptable failure
        }
    }
}
