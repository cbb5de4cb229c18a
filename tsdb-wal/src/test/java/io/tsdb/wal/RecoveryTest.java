package io.tsdb.wal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecoveryTest {
    @TempDir
    Path tmp;

    static final boolean LONG = Boolean.getBoolean("tsdb.long");

    static byte[] content(long offset, int len) {
        byte[] a = new byte[len];
        for (int i = 0; i < len; i++) a[i] = (byte) (offset * 17 + i);
        return a;
    }

    /** Writes {@code blocks} blocks of 1..5 records (one appendBatch each) to a 1-shard WAL; returns the records. */
    static List<byte[]> writeBlocks(ShardedWAL wal, int blocks, int recLen, Random rnd) throws IOException {
        List<byte[]> all = new ArrayList<>();
        for (int b = 0; b < blocks; b++) {
            int n = 1 + rnd.nextInt(5);
            List<ByteBuffer> recs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                byte[] c = content(all.size() + i, recLen);
                recs.add(ByteBuffer.wrap(c));
            }
            wal.appendBatch(0, recs, b, b + 1);
            for (ByteBuffer r : recs) all.add(r.array());
        }
        return all;
    }

    /** Replays everything: offset -> bytes (null where absent). */
    static List<byte[]> replayAll(ShardedWAL wal, int shard) throws IOException {
        List<byte[]> got = new ArrayList<>();
        long[] from = new long[wal.shardCount()];
        Arrays.fill(from, Long.MAX_VALUE);
        from[shard] = 0;
        wal.replay(
                i -> (off, b) -> {
                    while (got.size() < off) got.add(null);
                    byte[] a = new byte[b.remaining()];
                    b.get(a);
                    got.add(a);
                },
                from,
                1);
        return got;
    }

    static WalOptions oneShard() {
        return WalOptions.builder().shards(1).flushInterval(Duration.ofHours(1)).build();
    }

    @Test
    void tornTailAtEveryByteOfTheLastTwoBlocksWithThreeFills() throws Exception {
        Path live = tmp.resolve("live");
        Random rnd = new Random(42);
        List<byte[]> all;
        try (ShardedWAL wal =
                ShardedWAL.open(live, oneShard().toBuilder().compression(false).build())) {
            all = writeBlocks(wal, 6, 9, rnd);
            TestFiles.copyTree(live, tmp.resolve("image"));
        }
        Path image = tmp.resolve("image");
        WalOptions fast = WalOptions.builder().disk(FaultyDisk.noSync()).build();
        Path seg0 = TestFiles.segments(image.resolve("shard-000")).get(0);
        byte[] bytes = Files.readAllBytes(seg0);
        List<Long> bounds = TestFiles.blockBoundaries(bytes);
        // records per block from the boundaries: re-derive by replaying each prefix
        long start = bounds.get(bounds.size() - 3);
        int checked = 0;
        for (long p = start; p < bytes.length; p++) {
            for (int fill = 0; fill < 3; fill++) {
                Path d = tmp.resolve("t" + p + "-" + fill);
                TestFiles.copyTree(image, d);
                Path seg = d.resolve("shard-000").resolve(seg0.getFileName());
                byte[] b = Arrays.copyOf(bytes, bytes.length);
                if (fill == 0) b = Arrays.copyOf(bytes, (int) p);
                else if (fill == 1) Arrays.fill(b, (int) p, b.length, (byte) 0);
                else {
                    Random g = new Random(p);
                    for (int i = (int) p; i < b.length; i++) b[i] = (byte) g.nextInt();
                }
                Files.write(seg, b);
                int complete = 0;
                while (complete + 1 < bounds.size() && bounds.get(complete + 1) <= p) complete++;
                int expectedRecords;
                try (ShardedWAL wal = ShardedWAL.open(d, fast)) {
                    List<byte[]> got = replayAll(wal, 0);
                    expectedRecords = got.size();
                    // exactly the blocks wholly before p
                    assertEquals(
                            p == bounds.get(complete) && fill == 0 ? 0 : 1,
                            wal.recoveryReport().count(RecoveryReport.Kind.TORN_TAIL_TRUNCATED),
                            "p=" + p + " fill=" + fill);
                    for (int i = 0; i < got.size(); i++) assertArrayEquals(all.get(i), got.get(i));
                    // the number of records equals the records of `complete` blocks: compare with a clean cut at the
                    // boundary
                    assertEquals(recordsBefore(image, seg0, bounds.get(complete)), expectedRecords, "p=" + p);
                    List<ByteBuffer> more = new ArrayList<>();
                    for (int i = 0; i < 100; i++) more.add(ByteBuffer.wrap(content(expectedRecords + i, 5)));
                    wal.appendBatch(0, more, 0, 0);
                }
                int reopens = LONG || p % 7 == 0 ? 2 : 1;
                for (int again = 0; again < reopens; again++) {
                    try (ShardedWAL wal = ShardedWAL.open(d, fast)) {
                        assertTrue(
                                wal.recoveryReport().clean(),
                                wal.recoveryReport().toString());
                        List<byte[]> got = replayAll(wal, 0);
                        assertEquals(expectedRecords + 100, got.size());
                        for (int i = 0; i < expectedRecords; i++) assertArrayEquals(all.get(i), got.get(i));
                        for (int i = 0; i < 100; i++)
                            assertArrayEquals(content(expectedRecords + i, 5), got.get(expectedRecords + i));
                    }
                }
                TestFiles.deleteTree(d);
                checked++;
            }
        }
        assertTrue(checked >= 3 * 2 * BlockCodec.HEADER_BYTES);
    }

    private final java.util.Map<Long, Integer> refCounts = new java.util.HashMap<>();

    private int recordsBefore(Path image, Path seg0, long boundary) throws Exception {
        Integer cached = refCounts.get(boundary);
        if (cached != null) return cached;
        int n = recordsBefore0(image, seg0, boundary);
        refCounts.put(boundary, n);
        return n;
    }

    private int recordsBefore0(Path image, Path seg0, long boundary) throws Exception {
        Path d = tmp.resolve("ref" + boundary);
        if (!Files.exists(d)) {
            TestFiles.copyTree(image, d);
            byte[] b = Files.readAllBytes(seg0);
            Files.write(d.resolve("shard-000").resolve(seg0.getFileName()), Arrays.copyOf(b, (int) boundary));
        }
        try (ShardedWAL wal = ShardedWAL.open(
                d, WalOptions.builder().disk(FaultyDisk.noSync()).build())) {
            return (int) wal.nextOffset(0);
        }
    }

    @Test
    void bitFlipsAnywhereAreDetectedAndOnlyTheirBlockIsLost() throws Exception {
        Path clean = tmp.resolve("clean");
        Random rnd = new Random(7);
        List<byte[]> all;
        try (ShardedWAL wal = ShardedWAL.open(clean, oneShard())) {
            all = writeBlocks(wal, 40, 60, rnd);
        }
        Path seg0 = TestFiles.segments(clean.resolve("shard-000")).get(0);
        byte[] bytes = Files.readAllBytes(seg0);
        List<Long> bounds = TestFiles.blockBoundaries(bytes);
        int flips = LONG ? 2000 : 120;
        for (int t = 0; t < flips; t++) {
            long bit = (long) (rnd.nextDouble() * bytes.length * 8);
            Path d = tmp.resolve("flip" + t);
            TestFiles.copyTree(clean, d);
            byte[] b = Arrays.copyOf(bytes, bytes.length);
            b[(int) (bit / 8)] ^= (byte) (1 << (bit % 8));
            Path seg = d.resolve("shard-000").resolve(seg0.getFileName());
            Files.write(seg, b);
            int blockIdx = 0;
            while (bounds.get(blockIdx + 1) <= bit / 8) blockIdx++;
            try (ShardedWAL wal = ShardedWAL.open(d, WalOptions.builder().build())) {
                RecoveryReport r = wal.recoveryReport();
                assertFalse(r.clean(), "flip at bit " + bit + " not detected");
                RecoveryReport.Event e = r.events().get(0);
                assertEquals(0, e.shard());
                assertEquals(seg0.getFileName().toString(), e.segment());
                assertEquals((long) bounds.get(blockIdx), e.position(), r.toString());
                List<byte[]> got = replayAll(wal, 0);
                int missing = 0;
                for (int i = 0; i < all.size(); i++) {
                    byte[] g = i < got.size() ? got.get(i) : null;
                    if (g == null) missing++;
                    else assertArrayEquals(all.get(i), g, "corrupted value returned at offset " + i);
                }
                assertTrue(missing >= 1 && missing <= 5, "missing " + missing + " records for one flipped block");
            }
            try (ShardedWAL wal =
                    ShardedWAL.open(d, WalOptions.builder().strict(true).build())) {
                // the damage was dealt with by the first open (skipped block stays skipped, tail truncated):
                // strict open must now either succeed or name the damage
                assertNotNull(wal.recoveryReport());
            } catch (WalCorruptionException expected) {
                assertEquals(0, expected.shard());
            }
            TestFiles.deleteTree(d);
        }
    }

    @Test
    void strictRefusesCorruptionBeforeTheDurableMark() throws Exception {
        Path clean = tmp.resolve("clean");
        try (ShardedWAL wal = ShardedWAL.open(clean, oneShard())) {
            writeBlocks(wal, 10, 40, new Random(1));
        }
        Path seg0 = TestFiles.segments(clean.resolve("shard-000")).get(0);
        byte[] b = Files.readAllBytes(seg0);
        List<Long> bounds = TestFiles.blockBoundaries(b);
        int at = (int) (bounds.get(3) + 60);
        b[at] ^= 0x10;
        Files.write(seg0, b);
        WalCorruptionException e = assertThrows(
                WalCorruptionException.class,
                () -> ShardedWAL.open(clean, WalOptions.builder().strict(true).build()));
        assertEquals(0, e.shard());
        assertEquals(seg0.getFileName().toString(), e.segment());
        assertEquals((long) bounds.get(3), e.position());
        assertTrue(e.getMessage().contains("shard 0"), e.getMessage());
        try (ShardedWAL wal = ShardedWAL.open(clean, WalOptions.builder().build())) {
            assertEquals(
                    1,
                    wal.recoveryReport().count(RecoveryReport.Kind.CORRUPT_BLOCK_SKIPPED),
                    wal.recoveryReport().toString());
        }
    }

    @Test
    void anchorDamageIsRebuilt() throws Exception {
        Path clean = tmp.resolve("clean");
        List<byte[]> all;
        try (ShardedWAL wal = ShardedWAL.open(clean, oneShard())) {
            all = writeBlocks(wal, 20, 30, new Random(3));
        }
        String[] cases = {"missing", "empty", "truncated", "garbage", "pastEof", "missingSegment", "lagging", "tempLeft"
        };
        for (String c : cases) {
            Path d = tmp.resolve("anchor-" + c);
            TestFiles.copyTree(clean, d);
            Path sd = d.resolve("shard-000");
            Path anchor = sd.resolve("anchor");
            switch (c) {
                case "missing" -> Files.delete(anchor);
                case "empty" -> Files.write(anchor, new byte[0]);
                case "truncated" -> Files.write(anchor, Arrays.copyOf(Files.readAllBytes(anchor), 20));
                case "garbage" -> {
                    byte[] g = new byte[44];
                    new Random(5).nextBytes(g);
                    Files.write(anchor, g);
                }
                case "pastEof" -> new Anchor(99, 0, 1 << 30, 5000).write(Disk.DEFAULT, sd);
                case "missingSegment" -> new Anchor(99, 123456, 0, 123456).write(Disk.DEFAULT, sd);
                case "lagging" -> new Anchor(1, 0, 0, 0).write(Disk.DEFAULT, sd);
                case "tempLeft" -> Files.write(sd.resolve("anchor.tmp"), new byte[] {1, 2, 3});
                default -> fail(c);
            }
            try (ShardedWAL wal = ShardedWAL.open(d, WalOptions.builder().build())) {
                List<byte[]> got = replayAll(wal, 0);
                assertEquals(all.size(), got.size(), c);
                for (int i = 0; i < all.size(); i++) assertArrayEquals(all.get(i), got.get(i), c);
                if (!c.equals("lagging")) assertFalse(wal.recoveryReport().clean(), c);
            }
            try (ShardedWAL wal = ShardedWAL.open(d, WalOptions.builder().build())) {
                assertTrue(wal.recoveryReport().clean(), c + ": " + wal.recoveryReport());
                assertFalse(Files.exists(sd.resolve("anchor.tmp")));
            }
        }
    }

    @Test
    void indexDamageIsRebuilt() throws Exception {
        Path clean = tmp.resolve("clean");
        List<byte[]> all;
        WalOptions o = oneShard().toBuilder().segmentBytes(4096).build();
        try (ShardedWAL wal = ShardedWAL.open(clean, o)) {
            all = writeBlocks(wal, 200, 40, new Random(4));
            assertTrue(wal.shard(0).segmentCount() >= 3);
        }
        String[] cases = {"deleted", "truncated", "garbage", "unsorted", "pastEof", "orphan"};
        for (String c : cases) {
            Path d = tmp.resolve("idx-" + c);
            TestFiles.copyTree(clean, d);
            Path sd = d.resolve("shard-000");
            Path seg = TestFiles.segments(sd).get(1);
            Path idx = sd.resolve(seg.getFileName().toString().replace(".log", ".idx"));
            byte[] ib = Files.readAllBytes(idx);
            switch (c) {
                case "deleted" -> Files.delete(idx);
                case "truncated" -> Files.write(idx, Arrays.copyOf(ib, ib.length - 10));
                case "garbage" -> {
                    new Random(9).nextBytes(ib);
                    Files.write(idx, ib);
                }
                case "unsorted" -> {
                    // swap the first two entries (each keeps a valid CRC)
                    byte[] e0 = Arrays.copyOfRange(ib, SegmentIndex.HEADER, SegmentIndex.HEADER + SegmentIndex.ENTRY);
                    System.arraycopy(
                            ib, SegmentIndex.HEADER + SegmentIndex.ENTRY, ib, SegmentIndex.HEADER, SegmentIndex.ENTRY);
                    System.arraycopy(e0, 0, ib, SegmentIndex.HEADER + SegmentIndex.ENTRY, SegmentIndex.ENTRY);
                    Files.write(idx, ib);
                }
                case "pastEof" -> Files.write(seg, Arrays.copyOf(Files.readAllBytes(seg), (int) Files.size(seg) - 1));
                case "orphan" -> Files.write(sd.resolve(String.format("%020d.idx", 999_999_999L)), ib);
                default -> fail(c);
            }
            try (ShardedWAL wal = ShardedWAL.open(d, WalOptions.builder().build())) {
                RecoveryReport r = wal.recoveryReport();
                assertFalse(r.clean(), c);
                List<byte[]> got = replayAll(wal, 0);
                if (c.equals("pastEof")) {
                    // the segment lost its last byte: its last block is gone, everything else is intact
                    int present = 0;
                    for (int i = 0; i < got.size(); i++) {
                        if (got.get(i) != null) {
                            present++;
                            assertArrayEquals(all.get(i), got.get(i));
                        }
                    }
                    assertTrue(present >= all.size() - 5 && present < all.size(), c + " present=" + present);
                } else {
                    assertEquals(all.size(), got.size(), c);
                    for (int i = 0; i < all.size(); i++) assertArrayEquals(all.get(i), got.get(i), c);
                }
                if (c.equals("orphan")) assertEquals(1, r.count(RecoveryReport.Kind.FILE_REMOVED));
                else if (!c.equals("pastEof"))
                    assertEquals(1, r.count(RecoveryReport.Kind.INDEX_REBUILT), r.toString());
            }
            try (ShardedWAL wal = ShardedWAL.open(d, WalOptions.builder().build())) {
                RecoveryReport r = wal.recoveryReport();
                if (c.equals("pastEof")) { // the lost records stay reported as an offset gap
                    assertEquals(r.events().size(), r.count(RecoveryReport.Kind.OFFSET_GAP), r.toString());
                } else {
                    assertTrue(r.clean(), c + ": " + r);
                }
            }
        }
    }

    /** A hostile block (CRC fixed up) placed between two good blocks. */
    @Test
    void hostileFramesWithValidCrcOnlyYieldCorruptionReports() throws Exception {
        String[] cases = {
            "storedNear2GiB",
            "rawNear2GiB",
            "rawNear2GiBlz4",
            "badLz4Stream",
            "negativeCount",
            "countTooLarge",
            "recordLengthPastPayload",
            "badVersion",
            "unknownFlags",
            "storedOverLimit"
        };
        for (String c : cases) {
            Path d = tmp.resolve("hostile-" + c);
            List<byte[]> all;
            try (ShardedWAL wal = ShardedWAL.open(d, oneShard())) {
                all = new ArrayList<>();
                for (int b = 0; b < 3; b++) {
                    List<ByteBuffer> recs = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        byte[] x = new byte[200];
                        Arrays.fill(x, (byte) ('a' + b)); // compressible: LZ4 blocks
                        x[0] = (byte) i;
                        recs.add(ByteBuffer.wrap(x));
                        all.add(x);
                    }
                    wal.appendBatch(0, recs, 0, 0);
                }
            }
            Path seg = TestFiles.segments(d.resolve("shard-000")).get(0);
            byte[] b = Files.readAllBytes(seg);
            List<Long> bounds = TestFiles.blockBoundaries(b);
            int p = (int) (long) bounds.get(1);
            ByteBuffer bb = ByteBuffer.wrap(b);
            assertEquals(BlockCodec.FLAG_LZ4, b[p + 5], "test expects LZ4 blocks");
            int stored = bb.getInt(p + 32);
            switch (c) {
                case "storedNear2GiB" -> bb.putInt(p + 32, Integer.MAX_VALUE - 8);
                case "rawNear2GiB" -> {
                    b[p + 5] = 0;
                    bb.putInt(p + 28, Integer.MAX_VALUE - 8);
                }
                case "rawNear2GiBlz4" -> bb.putInt(p + 28, Integer.MAX_VALUE - 8);
                case "badLz4Stream" -> {
                    for (int i = 0; i < stored; i += 3) b[p + 56 + i] = (byte) 0xF7;
                }
                case "negativeCount" -> bb.putInt(p + 24, -5);
                case "countTooLarge" -> bb.putInt(p + 24, 5);
                case "recordLengthPastPayload" -> { // uncompressed block with a lying varint
                    b[p + 5] = 0;
                    bb.putInt(p + 28, stored);
                    b[p + 56] = (byte) 0x7F;
                }
                case "badVersion" -> b[p + 4] = 9;
                case "unknownFlags" -> b[p + 5] = (byte) 0x81;
                case "storedOverLimit" -> bb.putInt(p + 32, BlockCodec.MAX_PAYLOAD_BYTES + 1);
                default -> fail(c);
            }
            TestFiles.fixCrc(b, p, Math.min(stored, bb.getInt(p + 32)));
            Files.write(seg, b);
            long t0 = System.nanoTime();
            try (ShardedWAL wal = ShardedWAL.open(d, WalOptions.builder().build())) {
                List<byte[]> got = replayAll(wal, 0);
                RecoveryReport r = wal.recoveryReport();
                assertFalse(r.clean(), c);
                for (RecoveryReport.Event e : r.events()) {
                    assertTrue(e.kind() == RecoveryReport.Kind.CORRUPT_BLOCK_SKIPPED, c + ": " + r);
                    assertEquals(p, e.position(), c);
                }
                for (int i = 0; i < 4; i++) assertArrayEquals(all.get(i), got.get(i), c);
                for (int i = 4; i < Math.min(8, got.size()); i++) assertNull(got.get(i), c);
                assertEquals(12, got.size(), c);
                for (int i = 8; i < 12; i++) assertArrayEquals(all.get(i), got.get(i), c);
            }
            // block level: only CorruptBlockException
            byte[] block = Arrays.copyOfRange(b, p, (int) (long) bounds.get(2));
            assertThrows(CorruptBlockException.class, () -> BlockCodec.decode(ByteBuffer.wrap(block), (o, x) -> {}), c);
            assertTrue(System.nanoTime() - t0 < 5_000_000_000L, c + " took too long");
        }
    }

    @Test
    void anUnreadableShardIsReportedAndTheOthersOpen() throws Exception {
        Path d = tmp.resolve("iso");
        try (ShardedWAL wal = ShardedWAL.open(d, WalOptions.builder().shards(3).build())) {
            for (int i = 0; i < 300; i++) wal.append(i, ByteBuffer.wrap(content(i, 20)), i);
        }
        // make shard 1's directory unreadable as a directory: replace it by a file
        Path s1 = d.resolve("shard-001");
        TestFiles.deleteTree(s1);
        Files.write(s1, new byte[] {1});
        try (ShardedWAL wal = ShardedWAL.open(d, WalOptions.builder().build())) {
            assertEquals(List.of(1), wal.recoveryReport().failedShards());
            assertThrows(ShardFailedException.class, () -> wal.appendBatch(1, List.of(ByteBuffer.allocate(3)), 0, 0));
            wal.appendBatch(0, List.of(ByteBuffer.allocate(3)), 0, 0);
            wal.appendBatch(2, List.of(ByteBuffer.allocate(3)), 0, 0);
            long[] n = new long[3];
            wal.replay(i -> (o, b) -> n[i]++, null, 3);
            assertEquals(0, n[1]);
            assertTrue(n[0] > 0 && n[2] > 0);
        }
    }
}
