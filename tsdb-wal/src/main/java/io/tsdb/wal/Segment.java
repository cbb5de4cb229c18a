package io.tsdb.wal;

import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * One segment file of a shard and its in-memory sparse index.
 *
 * <p>{@link #size} and {@link #endOffset} describe the <em>published</em> blocks (written, and in
 * SYNC_BATCH also forced): the writer sets size first, then endOffset, so a reader that reads
 * endOffset first and size second gets a pair in which every record below endOffset lies in the
 * first size bytes.
 */
final class Segment {
    final long base;
    final Path path;
    final Path idxPath;
    final String name;
    final SegmentIndex index;
    /** Offset after the last published block (records [base, endOffset) may be present). */
    volatile long endOffset;
    /** Length of the published prefix of the file in bytes. */
    volatile long size;
    /** The open channel while this segment is written (or awaits its final force); null otherwise. */
    volatile FileChannel ch;

    /** Serialises every force() of this segment, so a failure is seen before any later success. */
    final Object forceLock = new Object();
    /** Set when a force() of this file failed: it is never forced (or written) again. Guarded by forceLock. */
    volatile boolean forceFailed;
    /** Bytes known to be fsynced (credited by the last successful force). Guarded by forceLock. */
    long syncedSize;

    /** After a failed fsync: bytes fsynced, and bytes holding published blocks; -1 while not sealed. */
    volatile long sealSynced = -1, sealLength = -1;

    /** @param indexStride the stride of its index ({@link SegmentIndex#strideFor}) */
    Segment(Path shardDir, long base, int indexStride) {
        this.base = base;
        this.index = new SegmentIndex(indexStride);
        this.name = fileName(base);
        this.path = shardDir.resolve(name);
        this.idxPath = shardDir.resolve(String.format("%020d.idx", base));
        this.endOffset = base;
    }

    boolean sealed() {
        return sealLength >= 0;
    }

    void seal(long synced, long length) {
        sealSynced = Math.min(synced, length);
        sealLength = length;
    }

    static String fileName(long base) {
        return String.format("%020d.log", base);
    }

    /** Parses a segment file name, or returns -1. */
    static long parseBase(String fileName) {
        if (fileName.length() != 24 || !fileName.endsWith(".log")) return -1;
        long v = 0;
        for (int i = 0; i < 20; i++) {
            char c = fileName.charAt(i);
            if (c < '0' || c > '9') return -1;
            v = v * 10 + (c - '0');
            if (v < 0) return -1;
        }
        return v;
    }

    @Override
    public String toString() {
        return name;
    }
}
