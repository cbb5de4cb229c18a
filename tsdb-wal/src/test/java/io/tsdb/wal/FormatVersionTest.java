package io.tsdb.wal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The on-disk additions of this version (docs/wal-format.md): gap blocks (block format version 2)
 * and anchors with seals (anchor version 2); version-1 files are still written when nothing needs
 * the new fields, and still read.
 */
class FormatVersionTest {
    @TempDir
    Path tmp;

    static byte[] gapBlock(long first, long synced, int count) {
        BlockCodec.Encoder enc = new BlockCodec.Encoder();
        int len = enc.encodeGap(first, synced, count);
        assertEquals(BlockCodec.HEADER_BYTES, len);
        return Arrays.copyOf(enc.out(), len);
    }

    static void fixCrc(byte[] b) {
        CRC32C crc = new CRC32C();
        crc.update(b, 0, 52);
        crc.update(b, 56, b.length - 56);
        ByteBuffer.wrap(b).putInt(52, (int) crc.getValue());
    }

    @Test
    void gapBlockRoundTripsWithoutRecords() throws Exception {
        byte[] b = gapBlock(1234, 1000, 17);
        assertEquals(BlockCodec.GAP_VERSION, b[4]);
        assertEquals(BlockCodec.FLAG_GAP, b[5]);
        int[] n = {0};
        BlockCodec.Header h = BlockCodec.decode(ByteBuffer.wrap(b), (o, r) -> n[0]++);
        assertTrue(h.gap());
        assertEquals(1234, h.firstOffset);
        assertEquals(1000, h.syncedOffset);
        assertEquals(17, h.recordCount);
        assertEquals(0, n[0], "a gap block hands out no record");
        // ordinary blocks are still version 1 (readable by version-1 readers)
        BlockCodec.Encoder enc = new BlockCodec.Encoder();
        byte[] p = {3, 1, 2, 3};
        int len = enc.encode(p, p.length, 0, 0, 1, 0, 0, true);
        assertEquals(BlockCodec.VERSION, enc.out()[4]);
        assertEquals(1, BlockCodec.decode(ByteBuffer.wrap(Arrays.copyOf(enc.out(), len)), (o, r) -> {}).recordCount);
    }

    @Test
    void everyBitFlipOfAGapBlockIsDetected() {
        byte[] good = gapBlock(99, 7, 3);
        for (int bit = 0; bit < good.length * 8; bit++) {
            byte[] b = good.clone();
            b[bit / 8] ^= (byte) (1 << (bit % 8));
            final int at = bit;
            assertThrows(
                    CorruptBlockException.class,
                    () -> BlockCodec.decode(ByteBuffer.wrap(b), (o, r) -> {}),
                    "bit " + at);
        }
    }

    /** Gap blocks with a valid CRC but impossible fields: only CorruptBlockException. */
    @Test
    void hostileGapBlocksAreRejected() {
        String[] cases = {
            "gapFlagInVersion1",
            "gapWithLz4",
            "gapWithRawLength",
            "gapWithStoredPayload",
            "gapWithAttributes",
            "gapZeroCount",
            "gapNegativeCount",
            "gapOffsetOverflow",
            "unknownFlagInVersion2"
        };
        for (String c : cases) {
            byte[] b = gapBlock(10, 0, 2);
            ByteBuffer bb = ByteBuffer.wrap(b);
            switch (c) {
                case "gapFlagInVersion1" -> b[4] = BlockCodec.VERSION;
                case "gapWithLz4" -> b[5] = (byte) (BlockCodec.FLAG_GAP | BlockCodec.FLAG_LZ4);
                case "gapWithRawLength" -> bb.putInt(28, 5);
                case "gapWithStoredPayload" -> {
                    b = Arrays.copyOf(b, 60);
                    ByteBuffer.wrap(b).putInt(32, 4).putInt(28, 4);
                }
                case "gapWithAttributes" -> bb.putLong(44, 1);
                case "gapZeroCount" -> bb.putInt(24, 0);
                case "gapNegativeCount" -> bb.putInt(24, -3);
                case "gapOffsetOverflow" -> {
                    bb.putLong(8, Long.MAX_VALUE - 1);
                    bb.putInt(24, 5);
                }
                case "unknownFlagInVersion2" -> b[5] = (byte) 0x06;
                default -> fail(c);
            }
            fixCrc(b);
            byte[] f = b;
            assertThrows(CorruptBlockException.class, () -> BlockCodec.decode(ByteBuffer.wrap(f), (o, r) -> {}), c);
        }
    }

    @Test
    void anchorWithoutSealsIsVersion1AndWithSealsVersion2() throws Exception {
        Path d = Files.createDirectories(tmp.resolve("a"));
        new Anchor(3, 100, 4096, 150).write(Disk.DEFAULT, d);
        byte[] v1 = Files.readAllBytes(d.resolve(Anchor.FILE));
        assertEquals(Anchor.BYTES, v1.length);
        assertEquals(1, ByteBuffer.wrap(v1).getInt(4));
        assertEquals(new Anchor(3, 100, 4096, 150), Anchor.read(Disk.DEFAULT, d));

        List<Anchor.Seal> seals = List.of(new Anchor.Seal(0, 512, 2048), new Anchor.Seal(100, 0, 56));
        Anchor a = new Anchor(4, 200, 0, 200, seals);
        a.write(Disk.DEFAULT, d);
        byte[] v2 = Files.readAllBytes(d.resolve(Anchor.FILE));
        assertEquals(48 + 24 * 2, v2.length);
        assertEquals(2, ByteBuffer.wrap(v2).getInt(4));
        assertEquals(2, ByteBuffer.wrap(v2).getInt(40));
        assertEquals(a, Anchor.read(Disk.DEFAULT, d));
        assertFalse(Files.exists(d.resolve(Anchor.TEMP)));
    }

    /** A damaged version-2 anchor is refused (recovery then rebuilds from the log and reports it). */
    @Test
    void damagedSealedAnchorsAreRefused() throws Exception {
        Path d = Files.createDirectories(tmp.resolve("b"));
        Anchor a = new Anchor(4, 200, 0, 200, List.of(new Anchor.Seal(0, 512, 2048), new Anchor.Seal(100, 0, 56)));
        byte[] good = a.encode();
        String[] cases = {
            "crc", "countTooLarge", "countZero", "unsortedSeals", "syncedPastSealed", "truncated", "version3"
        };
        for (String c : cases) {
            byte[] b = good.clone();
            ByteBuffer bb = ByteBuffer.wrap(b);
            boolean refix = true;
            switch (c) {
                case "crc" -> {
                    b[50] ^= 1;
                    refix = false;
                }
                case "countTooLarge" -> bb.putInt(40, 3);
                case "countZero" -> bb.putInt(40, 0);
                case "unsortedSeals" -> bb.putLong(44 + 24, 0);
                case "syncedPastSealed" -> bb.putLong(44 + 8, 4096);
                case "truncated" -> {
                    b = Arrays.copyOf(b, b.length - 24);
                    refix = true;
                }
                case "version3" -> bb.putInt(4, 3);
                default -> fail(c);
            }
            if (refix) {
                CRC32C crc = new CRC32C();
                crc.update(b, 0, b.length - 4);
                ByteBuffer.wrap(b).putInt(b.length - 4, (int) crc.getValue());
            }
            Files.write(d.resolve(Anchor.FILE), b);
            assertThrows(IOException.class, () -> Anchor.read(Disk.DEFAULT, d), c);
        }
    }

    /** A log that never saw a failed write is byte-for-byte the version-1 format: no gap block, a version-1 anchor. */
    @Test
    void aLogWithoutFailuresIsWrittenInVersion1() throws Exception {
        Path d = tmp.resolve("log");
        try (ShardedWAL wal = ShardedWAL.open(
                d, WalOptions.builder().shards(1).segmentBytes(4096).build())) {
            for (int i = 0; i < 300; i++) wal.append(0, ByteBuffer.wrap(FaultInjectionTest.content(i)), i);
        }
        Path sd = d.resolve("shard-000");
        assertEquals(Anchor.BYTES, Files.size(sd.resolve(Anchor.FILE)));
        for (Path seg : TestFiles.segments(sd)) {
            byte[] b = Files.readAllBytes(seg);
            List<Long> bounds = TestFiles.blockBoundaries(b);
            for (int i = 0; i + 1 < bounds.size(); i++)
                assertEquals(1, b[(int) (long) bounds.get(i) + 4], seg + " block " + i);
        }
    }
}
