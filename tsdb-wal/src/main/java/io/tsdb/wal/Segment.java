package io.tsdb.wal;

import java.nio.file.Path;

/** One segment file of a shard and its in-memory sparse index. */
final class Segment {
    final long base;
    final Path path;
    final Path idxPath;
    final String name;
    final SegmentIndex index = new SegmentIndex();
    /** Offset after the last valid block (records [base, endOffset) may be present). */
    volatile long endOffset;
    /** Length of the valid prefix of the file in bytes. */
    volatile long size;

    Segment(Path shardDir, long base) {
        this.base = base;
        this.name = fileName(base);
        this.path = shardDir.resolve(name);
        this.idxPath = shardDir.resolve(String.format("%020d.idx", base));
        this.endOffset = base;
    }

    static String fileName(long base) { return String.format("%020d.log", base); }

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
}
