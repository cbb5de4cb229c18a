package io.tsdb.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.zip.CRC32C;

/**
 * Sparse index of one segment: one entry per block (first offset, position, block length, record
 * count, min/max attribute). Single writer (the shard's flush leader or recovery), lock-free
 * readers: a reader takes {@link #size()} then {@link #entries()} and sees entries [0, size).
 *
 * <p>File format (.idx, version 1): header {int magic 0x54574958 "TWIX", int version 1, long segment
 * base, int CRC32C of the previous 16 bytes} = 20 bytes, then 44-byte entries {long first offset,
 * long position, int block length, int record count, long min attribute, long max attribute,
 * int CRC32C of the previous 40 bytes}. Big-endian.
 */
final class SegmentIndex {
    static final int MAGIC = 0x54574958;
    static final int VERSION = 1;
    static final int HEADER = 20;
    static final int ENTRY = 44;

    static final class Entries {
        final long[] first;
        final long[] pos;
        final int[] len;
        final int[] count;
        final long[] min;
        final long[] max;

        Entries(int cap) {
            first = new long[cap]; pos = new long[cap]; len = new int[cap]; count = new int[cap];
            min = new long[cap]; max = new long[cap];
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
    }

    private volatile Entries entries = new Entries(16);
    private volatile int size;

    int size() { return size; }
    Entries entries() { return entries; }

    void add(long first, long pos, int len, int count, long min, long max) {
        Entries e = entries;
        int n = size;
        if (n == e.first.length) {
            e = e.grow(n);
            entries = e;
        }
        e.first[n] = first; e.pos[n] = pos; e.len[n] = len; e.count[n] = count; e.min[n] = min; e.max[n] = max;
        size = n + 1;
    }

    /** Keeps the first {@code n} entries (recovery only: no concurrent readers yet). */
    void truncateTo(int n) {
        if (n < 0 || n > size) throw new IllegalArgumentException("truncateTo(" + n + ") with " + size + " entries");
        size = n;
    }

    void clear() {
        entries = new Entries(16);
        size = 0;
    }

    /** Index of the block holding {@code offset}, or of the first block after it; size if none. */
    static int search(Entries e, int n, long offset) {
        int lo = 0, hi = n - 1, ans = n;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (e.first[mid] + e.count[mid] > offset) { ans = mid; hi = mid - 1; } else lo = mid + 1;
        }
        return ans;
    }

    /** Writes the index file (replacing it) and forces it. */
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
            b.putLong(e.first[i]).putLong(e.pos[i]).putInt(e.len[i]).putInt(e.count[i]).putLong(e.min[i]).putLong(e.max[i]);
            crc.reset();
            crc.update(b.array(), at, 40);
            b.putInt((int) crc.getValue());
        }
        b.flip();
        try (FileChannel ch = disk.open(path, EnumSet.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING))) {
            int zeros = 0;
            while (b.hasRemaining()) {
                if (ch.write(b, b.position()) > 0) zeros = 0;
                else if (++zeros > 16) throw new IOException("index write made no progress on " + path);
            }
            ch.force(false);
        }
    }

    /**
     * Loads an index file if it is valid and consistent with a sealed segment of {@code fileSize}
     * bytes whose records lie in [base, limitOffset); returns null (and leaves this index empty) otherwise.
     */
    String load(Disk disk, Path path, long base, long fileSize, long limitOffset) {
        clear();
        try (FileChannel ch = disk.open(path, EnumSet.of(StandardOpenOption.READ))) {
            long sz = ch.size();
            if (sz < HEADER || (sz - HEADER) % ENTRY != 0 || sz > HEADER + (long) ENTRY * (fileSize / BlockCodec.HEADER_BYTES + 1))
                return "bad index size " + sz;
            ByteBuffer b = ByteBuffer.allocate((int) sz);
            while (b.hasRemaining()) if (ch.read(b, b.position()) < 0) return "short read";
            CRC32C crc = new CRC32C();
            if (b.getInt(0) != MAGIC) return "bad magic";
            if (b.getInt(4) != VERSION) return "unknown version " + b.getInt(4);
            if (b.getLong(8) != base) return "index of another segment";
            crc.update(b.array(), 0, 16);
            if ((int) crc.getValue() != b.getInt(16)) return "header CRC mismatch";
            int n = (int) ((sz - HEADER) / ENTRY);
            long prevEndPos = 0, prevEndOff = base;
            for (int i = 0; i < n; i++) {
                int at = HEADER + i * ENTRY;
                crc.reset();
                crc.update(b.array(), at, 40);
                if ((int) crc.getValue() != b.getInt(at + 40)) { clear(); return "entry " + i + " CRC mismatch"; }
                long first = b.getLong(at), pos = b.getLong(at + 8);
                int len = b.getInt(at + 16), cnt = b.getInt(at + 20);
                long mn = b.getLong(at + 24), mx = b.getLong(at + 32);
                if (pos < prevEndPos || first < prevEndOff || len < BlockCodec.HEADER_BYTES || cnt <= 0
                        || pos + len > fileSize || first + cnt > limitOffset || mn > mx) {
                    clear();
                    return "entry " + i + " inconsistent";
                }
                add(first, pos, len, cnt, mn, mx);
                prevEndPos = pos + len;
                prevEndOff = first + cnt;
            }
            if (prevEndPos != fileSize) { clear(); return "index ends at " + prevEndPos + ", segment at " + fileSize; }
            return null;
        } catch (IOException e) {
            clear();
            return "unreadable: " + e.getMessage();
        }
    }
}
