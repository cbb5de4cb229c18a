package io.tsdb.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.zip.CRC32C;

/**
 * Sparse index of one segment: one entry per <em>stride</em>, a run of contiguous blocks (first
 * offset, position, byte length and offsets covered of the run, min/max attribute over its
 * blocks). A run is extended by each next block that starts where it ends (position and offset)
 * until it holds at least {@link #strideBytes} bytes; a block that does not continue it (after a
 * block skipped as corrupt) starts a new entry. So a segment of S bytes has at most
 * S / strideBytes + 1 entries (plus one per corrupt block skipped), whatever its block size.
 * Readers find the entry holding an offset ({@link #search}) and walk the block headers from the
 * entry's first block (each header gives its first offset, record count and length).
 *
 * <p>The stride is {@link #strideFor}: segmentBytes / {@value #STRIDES_PER_SEGMENT}, 64 KiB for the
 * default 64 MiB segments, so the index of a segment is at most about 1,025 entries (41 KB),
 * about 0.06% of the WAL's bytes (it used to be one 40-byte entry per block: 9 MB for a 64 MiB
 * segment of 300-byte blocks). Segments of 4 KiB get an entry per block.
 *
 * <p>Single writer (the shard's flush leader or recovery), lock-free readers: the writer extends
 * the <em>last</em> entry in place (its length, count, min, max change; its first offset and
 * position never do) and publishes a new entry through the volatile {@link #size}, after its
 * predecessor's fields are final. A reader takes {@link #size()} then {@link #entries()} and uses
 * entries [0, size - 1) whole, and of the last one only its first offset and position (it walks
 * that run up to the segment's published size, read before the index).
 *
 * <p>File format (.idx, version 2): header {int magic 0x54574958 "TWIX", int version 2, long segment
 * base, int CRC32C of the previous 16 bytes} = 20 bytes, then 44-byte entries {long first offset,
 * long position, int byte length, int offsets covered, long min attribute, long max attribute,
 * int CRC32C of the previous 40 bytes}, one per run. Big-endian. Version 1 has the same layout with
 * one entry per block; it is still read (its entries are merged into runs as they load).
 */
final class SegmentIndex {
    static final int MAGIC = 0x54574958;
    /** The version written: entries describe runs of blocks. */
    static final int VERSION = 2;
    /** The first version: one entry per block (read, never written). */
    static final int VERSION_PER_BLOCK = 1;

    static final int HEADER = 20;
    static final int ENTRY = 44;
    /** A segment of segmentBytes gets a stride of segmentBytes / this (64 KiB for 64 MiB). */
    static final int STRIDES_PER_SEGMENT = 1024;

    /** The stride of a WAL whose segments roll at {@code segmentBytes} (4 B .. 1 MiB). */
    static int strideFor(long segmentBytes) {
        return (int) Math.max(1, Math.min(1 << 20, segmentBytes / STRIDES_PER_SEGMENT));
    }

    static final class Entries {
        final long[] first;
        final long[] pos;
        final int[] len;
        final int[] count;
        final long[] min;
        final long[] max;

        Entries(int cap) {
            first = new long[cap];
            pos = new long[cap];
            len = new int[cap];
            count = new int[cap];
            min = new long[cap];
            max = new long[cap];
        }

        Entries grow(int n) {
            Entries e = new Entries(Math.max(16, first.length * 2));
            System.arraycopy(first, 0, e.first, 0, n);
            System.arraycopy(pos, 0, e.pos, 0, n);
            System.arraycopy(len, 0, e.len, 0, n);
            System.arraycopy(count, 0, e.count, 0, n);
            System.arraycopy(min, 0, e.min, 0, n);
            System.arraycopy(max, 0, e.max, 0, n);
            return e;
        }

        /** Heap bytes of the six arrays' elements (40 per slot). */
        long bytes() {
            return 40L * first.length;
        }
    }

    /** A run is closed once it holds at least this many bytes. */
    final int strideBytes;

    private volatile Entries entries = new Entries(16);
    private volatile int size;
    /** The version of the file the last successful {@link #load} read; 0 if none. */
    private int loadedVersion;

    SegmentIndex(int strideBytes) {
        if (strideBytes < 1 || strideBytes > (1 << 20))
            throw new IllegalArgumentException("strideBytes " + strideBytes);
        this.strideBytes = strideBytes;
    }

    int size() {
        return size;
    }

    Entries entries() {
        return entries;
    }

    int loadedVersion() {
        return loadedVersion;
    }

    /**
     * Records a block: extends the last run if the block continues it and the run is still
     * shorter than the stride (and its offset count stays an int), else starts a new entry.
     */
    void add(long first, long pos, int len, int count, long min, long max) {
        Entries e = entries;
        int n = size;
        if (n > 0) {
            int k = n - 1;
            if (e.len[k] < strideBytes
                    && e.pos[k] + e.len[k] == pos
                    && e.first[k] + e.count[k] == first
                    && (long) e.count[k] + count <= Integer.MAX_VALUE
                    && (long) e.len[k] + len <= Integer.MAX_VALUE) {
                e.len[k] += len;
                e.count[k] += count;
                if (min < e.min[k]) e.min[k] = min;
                if (max > e.max[k]) e.max[k] = max;
                return;
            }
        }
        if (n == e.first.length) {
            e = e.grow(n);
            entries = e;
        }
        e.first[n] = first;
        e.pos[n] = pos;
        e.len[n] = len;
        e.count[n] = count;
        e.min[n] = min;
        e.max[n] = max;
        size = n + 1;
    }

    /**
     * Drops the blocks from position {@code cut} on (a block boundary; recovery only: no concurrent
     * readers yet): entries that start at or after it go, and the run holding it is rebuilt from
     * its blocks' headers before it (min/max included).
     */
    void truncateAt(FileWindow w, long cut, BlockCodec.Decoder dec, BlockCodec.Header h) throws IOException {
        Entries e = entries;
        int k = size;
        while (k > 0 && e.pos[k - 1] >= cut) k--;
        if (k == 0 || e.pos[k - 1] + e.len[k - 1] <= cut) {
            size = k;
            return;
        }
        long p = e.pos[k - 1];
        size = k - 1;
        while (p < cut) {
            String why = dec.parseHeader(w.buf, w.ensure(p, BlockCodec.HEADER_BYTES), cut - p, h);
            if (why != null) throw new CorruptBlockException(why + " at position " + p);
            add(h.firstOffset, p, h.blockLength(), h.recordCount, h.minAttribute, h.maxAttribute);
            p += h.blockLength();
        }
    }

    void clear() {
        entries = new Entries(16);
        size = 0;
        loadedVersion = 0;
    }

    /**
     * The entry holding {@code offset}, or the first entry after it; the last entry counts as
     * open-ended (a reader may not use its count, see the class comment); {@code n} if {@code n} is 0.
     */
    static int search(Entries e, int n, long offset) {
        if (n == 0) return 0;
        int lo = 0, hi = n - 2, ans = n - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (e.first[mid] + e.count[mid] > offset) {
                ans = mid;
                hi = mid - 1;
            } else lo = mid + 1;
        }
        return ans;
    }

    /**
     * The position of the block that holds {@code offset} (or of the first block after it) in a
     * segment whose index is complete (recovery, a sealed segment), found by walking headers from
     * the entry {@link #search} picks; fills {@code h} with its header. -1 if the offset is past
     * the last block. Throws {@link CorruptBlockException} if a header on the way does not parse or
     * does not continue the run (its CRC is not checked).
     */
    long locate(FileWindow w, long offset, BlockCodec.Decoder dec, BlockCodec.Header h) throws IOException {
        int n = size;
        Entries e = entries;
        for (int i = search(e, n, offset); i < n; i++) {
            long pos = e.pos[i], expected = e.first[i], end = pos + e.len[i];
            while (pos < end) {
                String why = end - pos < BlockCodec.HEADER_BYTES
                        ? "truncated header (" + (end - pos) + " bytes)"
                        : dec.parseHeader(w.buf, w.ensure(pos, BlockCodec.HEADER_BYTES), end - pos, h);
                if (why == null && h.firstOffset != expected)
                    why = "block first offset " + h.firstOffset + ", expected " + expected + " (index)";
                if (why != null) throw new CorruptBlockException(why + " at position " + pos);
                if (h.firstOffset + h.recordCount > offset) return pos;
                pos += h.blockLength();
                expected = h.firstOffset + h.recordCount;
            }
            if (expected != e.first[i] + e.count[i])
                throw new CorruptBlockException("index entry " + i + " ends at offset " + (e.first[i] + e.count[i])
                        + ", its blocks at " + expected);
        }
        return -1;
    }

    /** Writes the index file (version 2, replacing it) and forces it. */
    void write(Disk disk, Path path, long base) throws IOException {
        int n = size;
        Entries e = entries;
        ByteBuffer b = ByteBuffer.allocate(HEADER + n * ENTRY);
        CRC32C crc = new CRC32C();
        b.putInt(MAGIC).putInt(VERSION).putLong(base);
        crc.update(b.array(), 0, 16);
        b.putInt((int) crc.getValue());
        for (int i = 0; i < n; i++) {
            int at = b.position();
            b.putLong(e.first[i])
                    .putLong(e.pos[i])
                    .putInt(e.len[i])
                    .putInt(e.count[i])
                    .putLong(e.min[i])
                    .putLong(e.max[i]);
            crc.reset();
            crc.update(b.array(), at, 40);
            b.putInt((int) crc.getValue());
        }
        b.flip();
        try (FileChannel ch = disk.open(
                path,
                EnumSet.of(
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING))) {
            int zeros = 0;
            while (b.hasRemaining()) {
                if (ch.write(b, b.position()) > 0) zeros = 0;
                else if (++zeros > 16) throw new IOException("index write made no progress on " + path);
            }
            ch.force(false);
        }
    }

    /**
     * Loads an index file (version 1 or 2) if it is valid and consistent with a sealed segment of
     * {@code fileSize} bytes whose records lie in [base, limitOffset); returns null (and leaves
     * this index empty) otherwise. Entries that continue each other are merged into runs of this
     * index's stride (a version-1 file's per-block entries, or a file written with another stride).
     */
    String load(Disk disk, Path path, long base, long fileSize, long limitOffset) {
        clear();
        try (FileChannel ch = disk.open(path, EnumSet.of(StandardOpenOption.READ))) {
            long sz = ch.size();
            if (sz < HEADER
                    || (sz - HEADER) % ENTRY != 0
                    || sz > HEADER + (long) ENTRY * (fileSize / BlockCodec.HEADER_BYTES + 1))
                return "bad index size " + sz;
            ByteBuffer b = ByteBuffer.allocate((int) sz);
            while (b.hasRemaining()) if (ch.read(b, b.position()) < 0) return "short read";
            CRC32C crc = new CRC32C();
            if (b.getInt(0) != MAGIC) return "bad magic";
            int version = b.getInt(4);
            if (version != VERSION && version != VERSION_PER_BLOCK) return "unknown version " + version;
            if (b.getLong(8) != base) return "index of another segment";
            crc.update(b.array(), 0, 16);
            if ((int) crc.getValue() != b.getInt(16)) return "header CRC mismatch";
            int n = (int) ((sz - HEADER) / ENTRY);
            long prevEndPos = 0, prevEndOff = base;
            for (int i = 0; i < n; i++) {
                int at = HEADER + i * ENTRY;
                crc.reset();
                crc.update(b.array(), at, 40);
                if ((int) crc.getValue() != b.getInt(at + 40)) {
                    clear();
                    return "entry " + i + " CRC mismatch";
                }
                long first = b.getLong(at), pos = b.getLong(at + 8);
                int len = b.getInt(at + 16), cnt = b.getInt(at + 20);
                long mn = b.getLong(at + 24), mx = b.getLong(at + 32);
                if (pos < prevEndPos
                        || first < prevEndOff
                        || len < BlockCodec.HEADER_BYTES
                        || cnt <= 0
                        || pos + len > fileSize
                        || first + cnt > limitOffset
                        || mn > mx) {
                    clear();
                    return "entry " + i + " inconsistent";
                }
                add(first, pos, len, cnt, mn, mx);
                prevEndPos = pos + len;
                prevEndOff = first + cnt;
            }
            if (prevEndPos != fileSize) {
                clear();
                return "index ends at " + prevEndPos + ", segment at " + fileSize;
            }
            loadedVersion = version;
            return null;
        } catch (IOException e) {
            clear();
            return "unreadable: " + e.getMessage();
        }
    }
}
