package io.tsdb.wal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The segment index keeps one entry per stride (a run of contiguous blocks of at least
 * segmentBytes / 1024 bytes), not one per block: its size is bounded by the segment's bytes. A
 * per-block model built by scanning the log (a TreeMap from first offset to block) is the oracle
 * for lookups, replay and the entries themselves.
 */
class SegmentIndexStrideTest {
    @TempDir
    Path tmp;

    /** 1 MiB segments: a stride of 1 KiB, so a segment of ~150-byte blocks has ~1,000 entries instead of ~7,000. */
    static final long SEGMENT_BYTES = 1 << 20;

    static final int STRIDE = SegmentIndex.strideFor(SEGMENT_BYTES);

    static WalOptions options() {
        return WalOptions.builder()
                .shards(1)
                .segmentBytes(SEGMENT_BYTES)
                .durability(Durability.PAGE_CACHE)
                .build();
    }

    /** One block of the log as a scan reads it. */
    record Block(long segment, long pos, int len, long first, int count, long min, long max) {}

    /** Appends {@code blocks} tiny blocks (1..3 records of 8..80 bytes); returns every record, by offset. */
    static List<byte[]> writeTinyBlocks(WALShard shard, int blocks, Random rnd, List<byte[]> all) throws IOException {
        for (int b = 0; b < blocks; b++) {
            int n = 1 + rnd.nextInt(3);
            List<ByteBuffer> recs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                byte[] c = new byte[8 + rnd.nextInt(73)];
                rnd.nextBytes(c);
                recs.add(ByteBuffer.wrap(c));
                all.add(c);
            }
            long min = rnd.nextInt(1_000_000);
            shard.appendBatch(recs, min, min + rnd.nextInt(1000));
        }
        return all;
    }

    /** The per-block model: every block of every segment of the shard (up to its published size), by first offset. */
    static TreeMap<Long, Block> scan(WALShard shard) throws IOException {
        TreeMap<Long, Block> m = new TreeMap<>();
        for (Segment s : shard.segments()) {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(s.path));
            long pos = 0;
            while (pos < s.size) {
                int p = (int) pos;
                int len = BlockCodec.HEADER_BYTES + b.getInt(p + 32);
                m.put(
                        b.getLong(p + 8),
                        new Block(
                                s.base,
                                pos,
                                len,
                                b.getLong(p + 8),
                                b.getInt(p + 24),
                                b.getLong(p + 36),
                                b.getLong(p + 44)));
                pos += len;
            }
            assertEquals(s.size, pos, s.name + ": blocks end at the published size");
        }
        return m;
    }

    /** Each entry is a run of the model's blocks: same first offset and position, summed length and count, min/max over them. */
    static void assertEntriesAreRunsOfTheModel(WALShard shard, TreeMap<Long, Block> model, String where) {
        for (Segment s : shard.segments()) {
            SegmentIndex.Entries e = s.index.entries();
            int n = s.index.size();
            long blocks = model.subMap(s.base, s.endOffset).size();
            assertTrue(
                    n <= s.size / STRIDE + 1,
                    where + ": " + s.name + " has " + n + " entries for " + s.size + " bytes, stride " + STRIDE + " ("
                            + blocks + " blocks)");
            long off = s.base, pos = 0;
            for (int i = 0; i < n; i++) {
                assertEquals(off, e.first[i], where + ": entry " + i + " of " + s.name);
                assertEquals(pos, e.pos[i], where + ": entry " + i + " of " + s.name);
                long len = 0, count = 0, min = Long.MAX_VALUE, max = Long.MIN_VALUE;
                while (len < e.len[i]) {
                    Block b = model.get(off);
                    assertNotNull(b, where + ": no block at offset " + off + " in entry " + i + " of " + s.name);
                    assertEquals(pos + len, b.pos(), where);
                    len += b.len();
                    count += b.count();
                    min = Math.min(min, b.min());
                    max = Math.max(max, b.max());
                    off += b.count();
                }
                assertEquals(e.len[i], len, where + ": entry " + i + " of " + s.name + " ends inside a block");
                assertEquals(e.count[i], count, where);
                assertEquals(e.min[i], min, where);
                assertEquals(e.max[i], max, where);
                // a run is closed once it reaches the stride: only the last one may be shorter
                if (i < n - 1)
                    assertTrue(
                            e.len[i] >= STRIDE,
                            where + ": entry " + i + " of " + s.name + " holds " + e.len[i] + " bytes");
                pos += len;
            }
            assertEquals(s.size, pos, where + ": the entries of " + s.name + " cover it");
            assertEquals(s.endOffset, off, where);
        }
    }

    /** Index lookups of random and boundary offsets give the model's block holding the offset (or -1 past the end). */
    static void assertLookupsMatchTheModel(
            WALShard shard, TreeMap<Long, Block> model, Random rnd, long seed, String where) throws IOException {
        BlockCodec.Decoder dec = new BlockCodec.Decoder();
        BlockCodec.Header h = new BlockCodec.Header();
        int checked = 0;
        for (Segment s : shard.segments()) {
            List<Long> offsets = new ArrayList<>();
            for (int i = 0; i < 300; i++) offsets.add(s.base + (long) (rnd.nextDouble() * (s.endOffset - s.base)));
            SegmentIndex.Entries e = s.index.entries();
            for (int i = 0; i < s.index.size(); i++) {
                // at, just inside and at the end of every stride
                offsets.add(e.first[i]);
                offsets.add(e.first[i] + 1);
                offsets.add(e.first[i] + e.count[i] - 1);
                offsets.add(e.first[i] + e.count[i] / 2);
            }
            offsets.add(s.base);
            offsets.add(s.endOffset - 1);
            offsets.add(s.endOffset);
            offsets.add(s.endOffset + 1);
            try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.READ)) {
                FileWindow w = new FileWindow(ch, s.size, 1 << 16, null);
                for (long off : offsets) {
                    long got = s.index.locate(w, off, dec, h);
                    Map.Entry<Long, Block> want = model.floorEntry(off);
                    String msg = where + ": offset " + off + " in " + s.name + " (seed " + seed + ")";
                    if (off >= s.endOffset) {
                        assertEquals(-1, got, msg);
                        continue;
                    }
                    assertNotNull(want, msg);
                    assertEquals(s.base, want.getValue().segment(), msg);
                    assertEquals(want.getValue().pos(), got, msg);
                    assertEquals(want.getValue().first(), h.firstOffset, msg);
                    assertEquals(want.getValue().count(), h.recordCount, msg);
                    checked++;
                }
            }
        }
        assertTrue(checked > 1000, where + ": only " + checked + " lookups");
    }

    /** Replays from random offsets (and every stride's first offset of one segment): exactly the records at or after it. */
    static void assertReplayFromAnyOffset(
            WALShard shard, List<byte[]> all, long firstKept, Random rnd, long seed, String where) throws IOException {
        long end = shard.nextOffset();
        List<Long> froms = new ArrayList<>(List.of(0L, firstKept, firstKept + 1, end - 1, end, end + 5));
        for (int i = 0; i < 25; i++) froms.add(firstKept + (long) (rnd.nextDouble() * (end - firstKept)));
        for (Segment s : shard.segments()) {
            froms.add(s.base);
            froms.add(s.endOffset - 1);
            SegmentIndex.Entries e = s.index.entries();
            int k = rnd.nextInt(s.index.size());
            froms.add(e.first[k] + e.count[k] / 2);
        }
        for (long from : froms) {
            List<Long> offs = new ArrayList<>();
            List<byte[]> recs = new ArrayList<>();
            ReplayResult r = shard.replay(from, (off, b) -> {
                offs.add(off);
                byte[] a = new byte[b.remaining()];
                b.get(a);
                recs.add(a);
            });
            long start = Math.max(from, firstKept);
            String msg = where + ": replay from " + from + " (seed " + seed + ")";
            assertEquals(Math.max(0, end - start), offs.size(), msg);
            assertEquals(offs.size(), r.records(), msg);
            for (int i = 0; i < offs.size(); i++) {
                assertEquals(start + i, offs.get(i), msg);
                assertArrayEquals(all.get((int) (start + i)), recs.get(i), msg + ", offset " + (start + i));
            }
        }
    }

    @Test
    void anIndexOfManyTinyBlocksKeepsAboutOneEntryPerStride() {
        long seed = 20261208L;
        Random rnd = new Random(seed);
        SegmentIndex idx = new SegmentIndex(SegmentIndex.strideFor(64L << 20));
        assertEquals(64 << 10, idx.strideBytes, "64 KiB strides for the default 64 MiB segments");
        long pos = 0, off = 0, lastFirst = 0;
        int blocks = 0;
        while (pos < (64L << 20)) {
            int len = BlockCodec.HEADER_BYTES + 100 + rnd.nextInt(400);
            int count = 1 + rnd.nextInt(50);
            idx.add(off, pos, len, count, off, off + 1);
            lastFirst = off;
            pos += len;
            off += count;
            blocks++;
        }
        int n = idx.size();
        assertTrue(blocks > 150_000, "blocks " + blocks);
        assertTrue(n <= pos / idx.strideBytes + 1, n + " entries for " + pos + " bytes (seed " + seed + ")");
        // the arrays double: at most 2 slots per entry, 40 bytes each: about 80 KB instead of ~8 MB
        assertTrue(
                idx.entries().bytes() <= 80L * (n + 16),
                "index bytes " + idx.entries().bytes());
        // the entries tile the segment
        SegmentIndex.Entries e = idx.entries();
        long p = 0, o = 0;
        for (int i = 0; i < n; i++) {
            assertEquals(p, e.pos[i]);
            assertEquals(o, e.first[i]);
            p += e.len[i];
            o += e.count[i];
        }
        assertEquals(pos, p);
        assertEquals(off, o);
        // min/max over the run's blocks (each block's attributes are [first, first + 1])
        assertEquals(0, e.min[0]);
        assertEquals(e.first[n - 1], e.min[n - 1]);
        assertEquals(lastFirst + 1, e.max[n - 1], "max of the last run");
    }

    @Test
    void aBlockThatDoesNotContinueTheRunStartsANewEntry() {
        SegmentIndex idx = new SegmentIndex(1024);
        idx.add(0, 0, 100, 2, 5, 9);
        idx.add(2, 100, 100, 1, 3, 4); // continues: merged
        idx.add(4, 300, 100, 1, 1, 1); // a corrupt block was skipped before it (position and offset gap)
        idx.add(5, 400, 2000, 7, 0, 100); // continues the second run, which then reaches the stride
        idx.add(12, 2400, 60, 1, 0, 0); // the second run is full: a new one
        assertEquals(3, idx.size());
        SegmentIndex.Entries e = idx.entries();
        assertArrayEquals(new long[] {0, 4, 12}, Arrays.copyOf(e.first, 3));
        assertArrayEquals(new long[] {0, 300, 2400}, Arrays.copyOf(e.pos, 3));
        assertArrayEquals(new int[] {200, 2100, 60}, Arrays.copyOf(e.len, 3));
        assertArrayEquals(new int[] {3, 8, 1}, Arrays.copyOf(e.count, 3));
        assertArrayEquals(new long[] {3, 0, 0}, Arrays.copyOf(e.min, 3));
        assertArrayEquals(new long[] {9, 100, 0}, Arrays.copyOf(e.max, 3));
        // search: the run holding an offset, the next run for an offset in a gap, the last run is open-ended
        assertEquals(0, SegmentIndex.search(e, 3, 0));
        assertEquals(0, SegmentIndex.search(e, 3, 2));
        assertEquals(1, SegmentIndex.search(e, 3, 3));
        assertEquals(1, SegmentIndex.search(e, 3, 11));
        assertEquals(2, SegmentIndex.search(e, 3, 12));
        assertEquals(2, SegmentIndex.search(e, 3, 1_000));
        assertEquals(0, SegmentIndex.search(e, 0, 5));
    }

    @Test
    void aSegmentOfManyTinyBlocksHasAtMostOneEntryPerStrideAndLookupsMatchAPerBlockModel() throws Exception {
        long seed = 7_000_001L;
        Random rnd = new Random(seed);
        List<byte[]> all = new ArrayList<>();
        try (ShardedWAL wal = ShardedWAL.open(tmp.resolve("w"), options())) {
            WALShard shard = wal.shard(0);
            writeTinyBlocks(shard, 18_000, rnd, all);
            assertTrue(shard.segmentCount() >= 3, "segments " + shard.segmentCount());
            TreeMap<Long, Block> model = scan(shard);
            assertTrue(model.size() >= 18_000, "blocks " + model.size());
            long entries = 0;
            for (Segment s : shard.segments()) entries += s.index.size();
            // before strides there was one entry per block
            assertTrue(entries * 5 < model.size(), entries + " entries for " + model.size() + " blocks");
            assertEntriesAreRunsOfTheModel(shard, model, "live");
            assertLookupsMatchTheModel(shard, model, rnd, seed, "live");
            assertReplayFromAnyOffset(shard, all, 0, rnd, seed, "live");
        }
    }

    @Test
    void replayAndLookupsStayExactAfterTruncationAndRecovery() throws Exception {
        long seed = 424_242L;
        Random rnd = new Random(seed);
        List<byte[]> all = new ArrayList<>();
        Path dir = tmp.resolve("w");
        long firstKept;
        try (ShardedWAL wal = ShardedWAL.open(dir, options())) {
            WALShard shard = wal.shard(0);
            writeTinyBlocks(shard, 22_000, rnd, all);
            assertTrue(shard.segmentCount() >= 4, "segments " + shard.segmentCount());
            firstKept = shard.segments().get(1).base;
            assertEquals(1, shard.truncateBefore(firstKept + 1), "the first segment goes");
            TreeMap<Long, Block> model = scan(shard);
            assertEntriesAreRunsOfTheModel(shard, model, "truncated");
            assertLookupsMatchTheModel(shard, model, rnd, seed, "truncated");
            assertReplayFromAnyOffset(shard, all, firstKept, rnd, seed, "truncated");
        }
        // sealed segments load their (strided) index files, the newest is scanned
        try (ShardedWAL wal = ShardedWAL.open(dir, options())) {
            assertTrue(wal.recoveryReport().clean(), wal.recoveryReport().toString());
            WALShard shard = wal.shard(0);
            TreeMap<Long, Block> model = scan(shard);
            assertEntriesAreRunsOfTheModel(shard, model, "reopened");
            assertLookupsMatchTheModel(shard, model, rnd, seed, "reopened");
            assertReplayFromAnyOffset(shard, all, firstKept, rnd, seed, "reopened");
            writeTinyBlocks(shard, 3_000, rnd, all); // appends continue the newest segment's last run
            model = scan(shard);
            assertEntriesAreRunsOfTheModel(shard, model, "appended after reopen");
            assertReplayFromAnyOffset(shard, all, firstKept, rnd, seed, "appended after reopen");
        }
        // every index deleted: rebuilt by scanning, same entries
        try (var files = Files.list(dir.resolve("shard-000"))) {
            for (Path p : files.filter(p -> p.toString().endsWith(".idx")).toList()) Files.delete(p);
        }
        try (ShardedWAL wal = ShardedWAL.open(dir, options())) {
            assertTrue(
                    wal.recoveryReport().count(RecoveryReport.Kind.INDEX_REBUILT) >= 2,
                    wal.recoveryReport().toString());
            WALShard shard = wal.shard(0);
            TreeMap<Long, Block> model = scan(shard);
            assertEntriesAreRunsOfTheModel(shard, model, "rebuilt");
            assertLookupsMatchTheModel(shard, model, rnd, seed, "rebuilt");
            assertReplayFromAnyOffset(shard, all, firstKept, rnd, seed, "rebuilt");
        }
    }

    /** A version-1 index file (one 44-byte entry per block), written from the model as docs/wal-format.md specifies. */
    static byte[] version1Index(long base, List<Block> blocks) {
        ByteBuffer b = ByteBuffer.allocate(SegmentIndex.HEADER + SegmentIndex.ENTRY * blocks.size());
        CRC32C crc = new CRC32C();
        b.putInt(0x54574958).putInt(1).putLong(base);
        crc.update(b.array(), 0, 16);
        b.putInt((int) crc.getValue());
        for (Block k : blocks) {
            int at = b.position();
            b.putLong(k.first())
                    .putLong(k.pos())
                    .putInt(k.len())
                    .putInt(k.count())
                    .putLong(k.min())
                    .putLong(k.max());
            crc.reset();
            crc.update(b.array(), at, 40);
            b.putInt((int) crc.getValue());
        }
        return b.array();
    }

    @Test
    void aVersion1PerBlockIndexIsStillReadAndRewrittenAsRuns() throws Exception {
        long seed = 99L;
        Random rnd = new Random(seed);
        List<byte[]> all = new ArrayList<>();
        Path dir = tmp.resolve("w");
        TreeMap<Long, Block> model;
        List<Segment> segs;
        try (ShardedWAL wal = ShardedWAL.open(dir, options())) {
            writeTinyBlocks(wal.shard(0), 16_000, rnd, all);
            model = scan(wal.shard(0));
            segs = wal.shard(0).segments();
        }
        assertTrue(segs.size() >= 3);
        for (Segment s : segs.subList(0, segs.size() - 1)) {
            List<Block> blocks =
                    new ArrayList<>(model.subMap(s.base, s.endOffset).values());
            Files.write(s.idxPath, version1Index(s.base, blocks));
        }
        // read-only: the version-1 files are used (no rebuild) and left as they are
        try (ShardedWAL ro =
                ShardedWAL.open(dir, options().toBuilder().readOnly(true).build())) {
            assertEquals(
                    0,
                    ro.recoveryReport().count(RecoveryReport.Kind.INDEX_REBUILT),
                    ro.recoveryReport().toString());
            assertReplayFromAnyOffset(ro.shard(0), all, 0, rnd, seed, "read-only, version 1");
            assertEquals(
                    1, ByteBuffer.wrap(Files.readAllBytes(segs.get(0).idxPath)).getInt(4));
        }
        try (ShardedWAL wal = ShardedWAL.open(dir, options())) {
            assertTrue(wal.recoveryReport().clean(), wal.recoveryReport().toString());
            WALShard shard = wal.shard(0);
            assertEntriesAreRunsOfTheModel(shard, model, "version 1 loaded");
            assertLookupsMatchTheModel(shard, model, rnd, seed, "version 1 loaded");
            assertReplayFromAnyOffset(shard, all, 0, rnd, seed, "version 1 loaded");
            for (Segment s : shard.segments().subList(0, shard.segmentCount() - 1)) {
                ByteBuffer f = ByteBuffer.wrap(Files.readAllBytes(s.idxPath));
                assertEquals(SegmentIndex.VERSION, f.getInt(4), s.idxPath + " rewritten as version 2");
                assertEquals(
                        s.index.size(),
                        (f.capacity() - SegmentIndex.HEADER) / SegmentIndex.ENTRY,
                        s.idxPath.toString());
            }
        }
        try (ShardedWAL wal = ShardedWAL.open(dir, options())) {
            assertTrue(wal.recoveryReport().clean(), wal.recoveryReport().toString());
            assertEntriesAreRunsOfTheModel(wal.shard(0), model, "version 2 reloaded");
        }
    }

    /** A block in the middle of a run, not its first or last. */
    static Block blockInsideARun(Segment s, TreeMap<Long, Block> model, Random rnd) {
        SegmentIndex.Entries e = s.index.entries();
        int i = rnd.nextInt(s.index.size() - 1);
        List<Block> run = new ArrayList<>(
                model.subMap(e.first[i], e.first[i] + e.count[i]).values());
        assertTrue(run.size() >= 3, "run of " + run.size());
        return run.get(1 + rnd.nextInt(run.size() - 2));
    }

    @Test
    void aDamagedBlockInsideARunOfASealedSegmentLosesOnlyThatBlockAtReplay() throws Exception {
        long seed = 31337L;
        Random rnd = new Random(seed);
        List<byte[]> all = new ArrayList<>();
        Path clean = tmp.resolve("clean");
        TreeMap<Long, Block> model;
        Segment sealed;
        try (ShardedWAL wal = ShardedWAL.open(clean, options())) {
            writeTinyBlocks(wal.shard(0), 10_000, rnd, all);
            model = scan(wal.shard(0));
            sealed = wal.shard(0).segments().get(0);
        }
        for (String damage : List.of("payload", "storedLength", "firstOffset")) {
            Path d = tmp.resolve(damage);
            TestFiles.copyTree(clean, d);
            Block victim = blockInsideARun(sealed, model, rnd);
            Path seg = d.resolve("shard-000").resolve(sealed.name);
            byte[] bytes = Files.readAllBytes(seg);
            int p = (int) victim.pos();
            switch (damage) {
                case "payload" -> bytes[p + BlockCodec.HEADER_BYTES + 1] ^= 0x40;
                case "storedLength" -> bytes[p + 35] ^= 0x04;
                case "firstOffset" -> bytes[p + 15] ^= 0x01;
                default -> fail(damage);
            }
            Files.write(seg, bytes);
            String where = damage + " of the block at " + victim.pos() + " (seed " + seed + ")";
            // from an offset after the damage: nothing is read there, nothing reported
            try (ShardedWAL wal = ShardedWAL.open(d, options())) {
                assertTrue(wal.recoveryReport().clean(), where + ": the segment's index is trusted at open");
                long from = victim.first() + victim.count();
                List<Long> offs = new ArrayList<>();
                wal.shard(0).replay(from, (off, b) -> offs.add(off));
                assertEquals(all.size() - from, offs.size(), where);
                assertEquals(0, wal.recoveryReport().count(RecoveryReport.Kind.CORRUPT_BLOCK_SKIPPED), where);
            }
            try (ShardedWAL wal = ShardedWAL.open(d, options())) {
                List<Long> offs = new ArrayList<>();
                List<byte[]> recs = new ArrayList<>();
                wal.shard(0).replay(0, (off, b) -> {
                    offs.add(off);
                    byte[] a = new byte[b.remaining()];
                    b.get(a);
                    recs.add(a);
                });
                assertEquals(all.size() - victim.count(), offs.size(), where);
                for (int i = 0, o = 0; o < all.size(); o++) {
                    if (o >= victim.first() && o < victim.first() + victim.count()) continue;
                    assertEquals(o, offs.get(i), where);
                    assertArrayEquals(all.get(o), recs.get(i++), where + ", offset " + o);
                }
                List<RecoveryReport.Event> ev = wal.recoveryReport().events();
                assertEquals(1, ev.size(), where + ": " + ev);
                assertEquals(
                        RecoveryReport.Kind.CORRUPT_BLOCK_SKIPPED, ev.get(0).kind(), where);
                assertEquals(victim.pos(), ev.get(0).position(), where);
                assertEquals(victim.first(), ev.get(0).firstLostOffset(), where);
                assertEquals(victim.count(), ev.get(0).lostRecords(), where);
                assertEquals(victim.len(), ev.get(0).lostBytes(), where);
            }
            try (ShardedWAL wal =
                    ShardedWAL.open(d, options().toBuilder().strict(true).build())) {
                WalCorruptionException e = assertThrows(
                        WalCorruptionException.class, () -> wal.shard(0).replay(0, (off, b) -> {}), where);
                assertEquals(victim.pos(), e.position(), where);
                assertEquals(sealed.name, e.segment(), where);
            }
        }
    }

    @Test
    void cuttingASegmentInsideARunKeepsTheRunsBeforeTheCut() throws Exception {
        long seed = 5150L;
        Random rnd = new Random(seed);
        try (ShardedWAL wal = ShardedWAL.open(tmp.resolve("w"), options())) {
            writeTinyBlocks(wal.shard(0), 8_000, rnd, new ArrayList<>());
            TreeMap<Long, Block> model = scan(wal.shard(0));
            Segment s = wal.shard(0).segments().get(0);
            Block cutAt = blockInsideARun(s, model, rnd);
            // a private copy of the index, cut as recovery cuts a segment that overlaps the next
            SegmentIndex idx = new SegmentIndex(STRIDE);
            for (Block b : model.subMap(s.base, s.endOffset).values())
                idx.add(b.first(), b.pos(), b.len(), b.count(), b.min(), b.max());
            try (FileChannel ch = FileChannel.open(s.path, StandardOpenOption.READ)) {
                FileWindow w = new FileWindow(ch, s.size, 1 << 16, null);
                idx.truncateAt(w, cutAt.pos(), new BlockCodec.Decoder(), new BlockCodec.Header());
            }
            SegmentIndex want = new SegmentIndex(STRIDE);
            for (Block b : model.subMap(s.base, cutAt.first()).values())
                want.add(b.first(), b.pos(), b.len(), b.count(), b.min(), b.max());
            assertEquals(want.size(), idx.size(), "seed " + seed);
            for (int i = 0; i < want.size(); i++) {
                String msg = "entry " + i + " (seed " + seed + ")";
                assertEquals(want.entries().first[i], idx.entries().first[i], msg);
                assertEquals(want.entries().pos[i], idx.entries().pos[i], msg);
                assertEquals(want.entries().len[i], idx.entries().len[i], msg);
                assertEquals(want.entries().count[i], idx.entries().count[i], msg);
                assertEquals(want.entries().min[i], idx.entries().min[i], msg);
                assertEquals(want.entries().max[i], idx.entries().max[i], msg);
            }
            int last = idx.size() - 1;
            assertEquals(cutAt.pos(), idx.entries().pos[last] + idx.entries().len[last], "the index ends at the cut");
        }
    }

    static byte[] contentOf(long offset) {
        byte[] a = new byte[8 + (int) (offset % 73)];
        for (int i = 0; i < a.length; i++) a[i] = (byte) (offset * 31 + i);
        return a;
    }

    @Test
    void replayWhileAWriterAppendsHandsOutExactlyTheRecordsFromItsStartOffset() throws Exception {
        long seed = 8_675_309L;
        Random rnd = new Random(seed);
        try (ShardedWAL wal = ShardedWAL.open(tmp.resolve("w"), options())) {
            WALShard shard = wal.shard(0);
            java.util.concurrent.atomic.AtomicLong acked = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicReference<Throwable> writerError =
                    new java.util.concurrent.atomic.AtomicReference<>();
            Thread writer = new Thread(
                    () -> {
                        Random wr = new Random(seed + 1);
                        long next = 0;
                        try {
                            for (int b = 0; b < 20_000; b++) {
                                int n = 1 + wr.nextInt(3);
                                List<ByteBuffer> recs = new ArrayList<>();
                                for (int i = 0; i < n; i++) recs.add(ByteBuffer.wrap(contentOf(next + i)));
                                assertEquals(next + n - 1, shard.appendBatch(recs, b, b));
                                next += n;
                                acked.set(next);
                            }
                        } catch (Throwable t) {
                            writerError.set(t);
                        }
                    },
                    "writer");
            writer.start();
            int replays = 0;
            while (writer.isAlive() || replays < 20) {
                long ack = acked.get();
                long from = ack == 0 ? 0 : (long) (rnd.nextDouble() * ack);
                long[] expected = {from};
                shard.replay(from, (off, b) -> {
                    assertEquals(expected[0], off, "replay from " + from + " (seed " + seed + ")");
                    byte[] a = new byte[b.remaining()];
                    b.get(a);
                    assertArrayEquals(
                            contentOf(off), a, "offset " + off + ", replay from " + from + " (seed " + seed + ")");
                    expected[0]++;
                });
                // everything acknowledged before the replay began is handed out, and nothing beyond what was written
                assertTrue(
                        expected[0] >= ack,
                        "replay from " + from + " ended at " + expected[0] + ", " + ack
                                + " acknowledged before it (seed " + seed + ")");
                assertTrue(expected[0] <= shard.nextOffset(), "seed " + seed);
                replays++;
            }
            writer.join();
            assertNull(writerError.get(), () -> "writer failed: " + writerError.get());
            assertTrue(shard.segmentCount() >= 3, "segments " + shard.segmentCount());
            TreeMap<Long, Block> model = scan(shard);
            assertEntriesAreRunsOfTheModel(shard, model, "after concurrent replays");
        }
    }
}
