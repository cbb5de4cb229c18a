package io.tsdb.wal;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Brings one shard's directory back to a consistent log on open, after a clean close or a crash
 * (docs/wal-format.md, "Recovery"), and hands the segments it found to {@link WALShard}, which
 * resumes writing after the last of them.
 *
 * <p><b>Steps.</b> Removes a leftover anchor temp file and indexes without a segment; reads and
 * checks the anchor (a missing, unreadable or inconsistent one is dropped and reported as
 * {@link RecoveryReport.Kind#ANCHOR_REBUILT}: the shard rewrites it from the recovered state); undoes
 * an ASYNC roll that a power loss interrupted (see {@link #undoUnfinishedRoll}); then takes the
 * segments in base order: a segment sealed by a completed roll is trusted through its index (and
 * scanned, with its index rebuilt, when that is missing or inconsistent), the newest segment and
 * the segments sealed after a failed fsync are always scanned block by block. Offsets must run on
 * from one segment to the next: a gap is reported, an overlap is cut or is corruption.
 *
 * <p><b>Torn tail or corruption.</b> Damage that nothing attests as fsynced (beyond the durable
 * mark of the newest segment, or past the synced length of a segment sealed after a failed fsync)
 * is a torn tail: it is truncated and reported. Damage below it is corruption: a strict log throws
 * {@link WalCorruptionException}; otherwise the damaged block is skipped up to the next valid
 * block (or the segment is truncated there if there is none) and reported. Every finding is an
 * event of the {@link RecoveryReport}.
 *
 * <p><b>Dry run</b> (a read-only open, {@link WalOptions#readOnly()}): the same checks and the
 * same decisions, made in memory only. Nothing is created, truncated, renamed, deleted or written
 * (every file is opened for reading only); the segments it returns describe the prefix a writable
 * open would keep, and each event's detail says what was left as is. A writer may be appending
 * meanwhile: a segment that vanishes between the listing and its reading (the writer's
 * {@code truncateBefore}) ends the segments before it (they were being removed, oldest first) and
 * is skipped; a partly written last block is a torn tail, i.e. the end; later bytes are not read.
 *
 * <p>Not thread-safe: one instance recovers one shard, once, before the shard is published.
 */
final class ShardRecovery {

    /**
     * What recovery left on disk.
     *
     * @param segments the segments in base order, scanned or loaded from their index, with
     *                 {@code size} and {@code endOffset} set; no channel is open; empty if the
     *                 shard has no segment file
     * @param anchor   the anchor as read and checked; null for a new shard, or if it was missing,
     *                 unreadable or inconsistent (an {@link RecoveryReport.Kind#ANCHOR_REBUILT}
     *                 event says why)
     * @param vanishedEnd dry run only: the offset after which the segments a concurrent
     *                 {@code truncateBefore} removed under the scan began (the base of the newest of
     *                 them); -1 if none vanished
     */
    record Result(List<Segment> segments, Anchor anchor, long vanishedEnd) {}

    private enum ScanMode {
        /** The newest segment: damage beyond the durable mark is a torn tail. */
        LAST,
        /** Sealed by a completed roll (fsynced): any damage is corruption. */
        SEALED,
        /** Sealed after a failed fsync: damage past its synced length is a torn tail of that segment only. */
        SEALED_AFTER_FAILED_FSYNC
    }

    private final int id;
    private final Path dir;
    private final Disk disk;
    private final boolean strict;
    private final RecoveryReport report;
    /** Read-only open: decide in memory, change nothing on disk (see the class comment). */
    private final boolean dryRun;
    /** The stride of the segments' indexes ({@link SegmentIndex#strideFor}). */
    private final int indexStride;

    ShardRecovery(int id, Path dir, Disk disk, boolean strict, RecoveryReport report, boolean dryRun, int indexStride) {
        this.id = id;
        this.indexStride = indexStride;
        this.dir = dir;
        this.disk = disk;
        this.strict = strict;
        this.report = report;
        this.dryRun = dryRun;
    }

    /** Prefix of a dry run's event details: the repair was decided but not done. */
    static final String DRY_RUN_NOTE = "read-only open, not done on disk: ";

    private void event(
            RecoveryReport.Kind kind,
            String segment,
            long pos,
            long firstLost,
            long lostRecords,
            long lostBytes,
            String detail) {
        if (dryRun && kind != RecoveryReport.Kind.OFFSET_GAP) detail = DRY_RUN_NOTE + detail;
        report.add(new RecoveryReport.Event(kind, id, segment, pos, firstLost, lostRecords, lostBytes, detail));
    }

    /** Truncates {@code ch} to {@code size} and forces it; nothing in a dry run. */
    private void cut(FileChannel ch, long size) throws IOException {
        if (dryRun) return;
        ch.truncate(size);
        ch.force(true);
    }

    /**
     * Recovers the shard directory: validates, truncates, removes and rebuilds files as described
     * above, reporting each finding. Throws {@link WalCorruptionException} for damage it must not
     * repair (strict mode, overlapping segments).
     */
    Result recover() throws IOException {
        Path tmp = dir.resolve(Anchor.TEMP);
        if (Files.exists(tmp)) {
            if (!dryRun) disk.delete(tmp);
            event(RecoveryReport.Kind.FILE_REMOVED, Anchor.TEMP, -1, -1, -1, 0, "leftover anchor temp file");
        }
        List<Long> bases = new ArrayList<>();
        List<Path> idxFiles = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                long b = Segment.parseBase(n);
                if (b >= 0) bases.add(b);
                else if (n.endsWith(".idx")) idxFiles.add(p);
            }
        }
        Collections.sort(bases);
        for (Path p : idxFiles) {
            String n = p.getFileName().toString();
            long b = Segment.parseBase(n.substring(0, n.length() - 4) + ".log");
            if (b < 0 || !bases.contains(b)) {
                if (!dryRun) disk.delete(p);
                event(RecoveryReport.Kind.FILE_REMOVED, n, -1, -1, -1, 0, "orphan index without segment");
            }
        }
        Anchor anchor = null;
        try {
            anchor = Anchor.read(disk, dir);
            if (anchor == null && !bases.isEmpty()) {
                event(RecoveryReport.Kind.ANCHOR_REBUILT, Anchor.FILE, -1, -1, -1, 0, "anchor missing");
            }
        } catch (IOException e) {
            event(RecoveryReport.Kind.ANCHOR_REBUILT, Anchor.FILE, -1, -1, -1, 0, e.getMessage());
        }
        if (anchor != null) {
            Path seg = dir.resolve(Segment.fileName(anchor.segmentBase()));
            String bad = null;
            long segSize = sizeOrMinus1(seg);
            if (segSize >= 0) {
                if (anchor.position() > segSize) bad = "anchor points past the end of " + seg.getFileName();
            } else if (bases.isEmpty() || anchor.segmentBase() > bases.get(bases.size() - 1)) {
                bad = "anchor points to a missing segment " + seg.getFileName();
            }
            if (bad != null) {
                event(RecoveryReport.Kind.ANCHOR_REBUILT, Anchor.FILE, -1, -1, -1, 0, bad);
                anchor = null;
            }
        }
        Map<Long, Anchor.Seal> seals = anchor != null ? anchor.sealMap() : Map.of();
        long durable = anchor != null ? anchor.committedOffset() : 0;
        if (anchor != null && bases.size() >= 2) {
            try {
                undoUnfinishedRoll(bases, anchor, seals);
            } catch (NoSuchFileException e) {
                if (!dryRun) throw e;
                // removed by a live writer's truncateBefore: the scan below skips it
            }
        }

        List<Segment> segs = new ArrayList<>();
        long vanishedEnd = -1;
        ByteBuffer scanBuf = ByteBuffer.allocate(1 << 20);
        for (int i = 0; i < bases.size(); i++) {
            boolean last = i == bases.size() - 1;
            Segment s = new Segment(dir, bases.get(i), indexStride);
            long limit = last ? Long.MAX_VALUE : bases.get(i + 1);
            try {
                long fileSize = Files.size(s.path);
                Anchor.Seal seal = seals.get(s.base);
                if (seal != null) {
                    // sealed after a failed fsync: always scanned (its unsynced part may be damaged)
                    s.seal(seal.syncedLength(), seal.sealedLength());
                    durable = scan(s, fileSize, durable, ScanMode.SEALED_AFTER_FAILED_FSYNC, scanBuf);
                } else if (!last) {
                    String why = Files.exists(s.idxPath)
                            ? s.index.load(disk, s.idxPath, s.base, fileSize, limit)
                            : "index missing";
                    if (why == null) {
                        int n = s.index.size();
                        SegmentIndex.Entries e = s.index.entries();
                        s.size = fileSize;
                        s.endOffset = n == 0 ? s.base : e.first[n - 1] + e.count[n - 1];
                        if (s.index.loadedVersion() == SegmentIndex.VERSION_PER_BLOCK && !dryRun) {
                            // a per-block index of an older release: valid, rewritten once in runs (a cache: best
                            // effort)
                            try {
                                s.index.write(disk, s.idxPath, s.base);
                            } catch (IOException ex) {
                                try {
                                    disk.delete(s.idxPath);
                                } catch (IOException ignored) {
                                }
                            }
                        }
                    } else {
                        event(
                                RecoveryReport.Kind.INDEX_REBUILT,
                                s.idxPath.getFileName().toString(),
                                -1,
                                -1,
                                -1,
                                0,
                                why);
                        durable = scan(s, fileSize, durable, ScanMode.SEALED, scanBuf);
                        if (!dryRun) s.index.write(disk, s.idxPath, s.base);
                    }
                } else {
                    durable = scan(s, fileSize, durable, ScanMode.LAST, scanBuf);
                }
            } catch (NoSuchFileException e) {
                if (!dryRun) throw e;
                // a live writer's truncateBefore removed it (and the older ones, oldest first) after the listing
                segs.clear();
                vanishedEnd = s.base;
                continue;
            }
            if (!segs.isEmpty()) {
                Segment prev = segs.get(segs.size() - 1);
                if (prev.endOffset < s.base) {
                    event(
                            RecoveryReport.Kind.OFFSET_GAP,
                            s.name,
                            0,
                            prev.endOffset,
                            s.base - prev.endOffset,
                            0,
                            "offsets " + prev.endOffset + ".." + (s.base - 1) + " missing before this segment");
                } else if (prev.endOffset > s.base && !cutOverlap(prev, s)) {
                    throw new WalCorruptionException(
                            id,
                            s.name,
                            0,
                            "segment base " + s.base + " overlaps the previous segment ending at offset "
                                    + prev.endOffset);
                }
            }
            segs.add(s);
        }
        return new Result(List.copyOf(segs), anchor, vanishedEnd);
    }

    /**
     * An ASYNC roll creates the next segment B and writes into it before a background task has
     * forced the previous segment A (and then rewrites the anchor). A power loss in that window
     * can leave A with a torn or missing tail while B's directory entry survived. Recovery
     * recognises it: the anchor still points to A (the roll never finished), A has no valid index
     * (written only after A's force), A is damaged or ends before B's base at an offset that
     * nothing attests as fsynced (the anchor's committed offset, A's own later blocks, or any
     * block of B). Then B holds only blocks written after an unsynced A, none of them durable: B
     * is removed (before A is cut, so a crash here is safe) and A, now the newest segment, gets
     * its torn tail truncated, which keeps the log a prefix.
     */
    private void undoUnfinishedRoll(List<Long> bases, Anchor anchor, Map<Long, Anchor.Seal> seals) throws IOException {
        int n = bases.size();
        long aBase = bases.get(n - 2), bBase = bases.get(n - 1);
        if (anchor.segmentBase() != aBase || seals.containsKey(aBase) || seals.containsKey(bBase)) return;
        Segment a = new Segment(dir, aBase, indexStride), b = new Segment(dir, bBase, indexStride);
        long aSize = Files.size(a.path);
        if (Files.exists(a.idxPath) && a.index.load(disk, a.idxPath, aBase, aSize, bBase) == null) return;
        BlockCodec.Decoder dec = new BlockCodec.Decoder();
        BlockCodec.Header h = new BlockCodec.Header();
        long pos = 0, expected = aBase, durable = anchor.committedOffset();
        String why = null;
        try (FileChannel ch = disk.open(a.path, EnumSet.of(StandardOpenOption.READ))) {
            FileWindow w = new FileWindow(ch, aSize, 1 << 20, null);
            while (pos < aSize) {
                why = tryBlock(w, dec, h, pos, aSize, expected, false);
                if (why != null) break;
                durable = Math.max(durable, h.syncedOffset);
                expected = h.firstOffset + h.recordCount;
                pos += h.blockLength();
            }
            if (why == null && expected >= bBase) return; // a is whole: the roll may be unfinished, nothing was lost
            if (expected < durable) return;
            if (why != null) {
                BlockCodec.Header h2 = new BlockCodec.Header();
                long q = resync(w, dec, h2, pos + 1, aSize, expected);
                if (q >= 0 && h2.syncedOffset > expected) return;
            }
        }
        if (maxSyncedOffset(b) > expected) return;
        if (why == null) why = "its unsynced tail is missing, it ends before offset " + bBase;
        long lost = Files.size(b.path);
        if (!dryRun) {
            disk.delete(b.idxPath);
            disk.delete(b.path);
            disk.syncDirectory(dir);
        }
        bases.remove(n - 1);
        event(
                RecoveryReport.Kind.TORN_TAIL_TRUNCATED,
                b.name,
                0,
                bBase,
                -1,
                lost,
                "segment written during an "
                        + "unfinished roll of " + a.name + ", whose tail is torn at position " + pos + " (offset "
                        + expected
                        + ": " + why + "): removed to keep the log a prefix");
    }

    /** The size of a file, or -1 if it does not exist (or vanished just now). */
    private static long sizeOrMinus1(Path p) throws IOException {
        try {
            return Files.size(p);
        } catch (NoSuchFileException e) {
            return -1;
        }
    }

    /** The highest synced offset in the headers of the valid leading blocks of a segment; -1 if none. */
    private long maxSyncedOffset(Segment s) throws IOException {
        long size = Files.size(s.path);
        long max = -1;
        try (FileChannel ch = disk.open(s.path, EnumSet.of(StandardOpenOption.READ))) {
            FileWindow w = new FileWindow(ch, size, 1 << 20, null);
            BlockCodec.Decoder dec = new BlockCodec.Decoder();
            BlockCodec.Header h = new BlockCodec.Header();
            long pos = 0, expected = s.base;
            while (pos < size && tryBlock(w, dec, h, pos, size, expected, false) == null) {
                max = Math.max(max, h.syncedOffset);
                expected = h.firstOffset + h.recordCount;
                pos += h.blockLength();
            }
        }
        return max;
    }

    /**
     * {@code prev} ends past the base of the next segment {@code s}: the blocks from that base on
     * are a batch whose fsync failed (its callers got a DurabilityException and the shard went on
     * in {@code s}), and the seal that excluded them was lost with the anchor. Cuts {@code prev}
     * at the block boundary {@code s.base}; false (corruption) if there is none.
     */
    private boolean cutOverlap(Segment prev, Segment s) throws IOException {
        long pos;
        long oldEnd = prev.endOffset;
        long fileSize = Files.size(prev.path);
        try (FileChannel ch = disk.open(prev.path, EnumSet.of(StandardOpenOption.READ))) {
            FileWindow w = new FileWindow(ch, prev.size, 1 << 20, null);
            BlockCodec.Decoder dec = new BlockCodec.Decoder();
            BlockCodec.Header h = new BlockCodec.Header();
            try {
                pos = prev.index.locate(w, s.base, dec, h);
                if (pos < 0 || h.firstOffset != s.base) return false;
                prev.index.truncateAt(w, pos, dec, h);
            } catch (CorruptBlockException | EOFException e) {
                return false;
            }
        }
        if (!dryRun) {
            try (FileChannel ch = disk.open(prev.path, EnumSet.of(StandardOpenOption.WRITE))) {
                cut(ch, pos);
            }
        }
        prev.size = pos;
        prev.endOffset = s.base;
        if (!prev.sealed() && !dryRun) prev.index.write(disk, prev.idxPath, prev.base);
        event(
                RecoveryReport.Kind.SEALED_TAIL_TRUNCATED,
                prev.name,
                pos,
                s.base,
                oldEnd - s.base,
                fileSize - pos,
                "blocks overlapping the next segment " + s.name
                        + " (a batch whose fsync failed; its seal was lost with the anchor)");
        return true;
    }

    /** Validates a segment block by block (header + CRC), fills its index, truncates a torn tail. */
    private long scan(Segment s, long fileSize, long durable, ScanMode mode, ByteBuffer buf) throws IOException {
        s.index.clear();
        boolean afterFailedFsync = mode == ScanMode.SEALED_AFTER_FAILED_FSYNC;
        long limit = afterFailedFsync ? Math.min(fileSize, s.sealLength) : fileSize;
        Set<StandardOpenOption> mode0 = dryRun
                ? EnumSet.of(StandardOpenOption.READ)
                : EnumSet.of(StandardOpenOption.READ, StandardOpenOption.WRITE);
        try (FileChannel ch = disk.open(s.path, mode0)) {
            FileWindow w = new FileWindow(ch, limit, buf.capacity(), buf);
            BlockCodec.Decoder dec = new BlockCodec.Decoder();
            BlockCodec.Header h = new BlockCodec.Header();
            long pos = 0;
            long expected = s.base;
            boolean afterSkip = false;
            String tornWhy = null;
            while (pos < limit) {
                String why = tryBlock(w, dec, h, pos, limit, expected, afterSkip);
                if (why == null) {
                    s.index.add(h.firstOffset, pos, h.blockLength(), h.recordCount, h.minAttribute, h.maxAttribute);
                    durable = Math.max(durable, h.syncedOffset);
                    expected = h.firstOffset + h.recordCount;
                    pos += h.blockLength();
                    afterSkip = false;
                    continue;
                }
                if (afterFailedFsync && pos >= s.sealSynced) {
                    // acknowledged but never fsynced (the fsync failed): a torn tail of this segment only
                    tornWhy = why;
                    break;
                }
                BlockCodec.Header h2 = new BlockCodec.Header();
                long q = resync(w, dec, h2, pos + 1, limit, expected);
                boolean attested =
                        mode != ScanMode.LAST || expected < durable || (q >= 0 && h2.syncedOffset > expected);
                if (attested) {
                    if (strict) throw new WalCorruptionException(id, s.name, pos, why);
                    if (q >= 0) {
                        event(
                                RecoveryReport.Kind.CORRUPT_BLOCK_SKIPPED,
                                s.name,
                                pos,
                                expected,
                                h2.firstOffset - expected,
                                q - pos,
                                why);
                        pos = q;
                        afterSkip = true;
                        continue;
                    }
                    event(RecoveryReport.Kind.CORRUPT_TAIL_TRUNCATED, s.name, pos, expected, -1, fileSize - pos, why);
                } else {
                    event(RecoveryReport.Kind.TORN_TAIL_TRUNCATED, s.name, pos, expected, -1, fileSize - pos, why);
                }
                cut(ch, pos);
                fileSize = pos;
                break;
            }
            if (afterFailedFsync && fileSize > pos) {
                event(
                        RecoveryReport.Kind.SEALED_TAIL_TRUNCATED,
                        s.name,
                        pos,
                        expected,
                        -1,
                        fileSize - pos,
                        "segment sealed after a failed fsync (" + s.sealSynced + " bytes fsynced, " + s.sealLength
                                + " bytes of acknowledged blocks): "
                                + (tornWhy != null ? tornWhy : "bytes after the sealed length"));
                cut(ch, pos);
            }
            s.size = pos;
            s.endOffset = expected;
            return durable;
        }
    }

    private static String tryBlock(
            FileWindow w,
            BlockCodec.Decoder dec,
            BlockCodec.Header h,
            long pos,
            long fileSize,
            long expected,
            boolean afterSkip)
            throws IOException {
        long avail = fileSize - pos;
        if (avail < BlockCodec.HEADER_BYTES) return "truncated header (" + avail + " bytes)";
        int at = w.ensure(pos, BlockCodec.HEADER_BYTES);
        String why = dec.parseHeader(w.buf, at, avail, h);
        if (why != null) return why;
        if (afterSkip ? h.firstOffset < expected : h.firstOffset != expected)
            return "block first offset " + h.firstOffset + ", expected " + expected;
        at = w.ensure(pos, h.blockLength());
        if (!dec.crcMatches(w.buf, at, h)) return "CRC mismatch";
        try {
            dec.validatePayload(w.buf, at, h);
        } catch (CorruptBlockException e) {
            return e.getMessage();
        }
        return null;
    }

    /**
     * Finds the next valid block (header, CRC, payload framing; first offset at least
     * {@code expected}) at or after {@code from} that ends by {@code fileSize}; -1 if none.
     */
    static long resync(
            FileWindow w, BlockCodec.Decoder dec, BlockCodec.Header h, long from, long fileSize, long expected)
            throws IOException {
        for (long p = from; p + BlockCodec.HEADER_BYTES <= fileSize; p++) {
            int at = w.ensure(p, 4);
            if (w.buf.getInt(at) != BlockCodec.MAGIC) continue;
            if (tryBlock(w, dec, h, p, fileSize, expected, true) == null) return p;
        }
        return -1;
    }
}
