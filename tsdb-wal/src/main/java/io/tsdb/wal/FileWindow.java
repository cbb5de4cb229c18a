package io.tsdb.wal;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Large sequential positional reads into one reused heap buffer. */
final class FileWindow {
    private final FileChannel ch;
    private final long fileSize;
    private final int chunk;
    ByteBuffer buf;
    private long start = -1;
    private int len;

    FileWindow(FileChannel ch, long fileSize, int chunk, ByteBuffer reuse) {
        this.ch = ch;
        this.fileSize = fileSize;
        this.chunk = chunk;
        this.buf = reuse != null ? reuse : ByteBuffer.allocate(chunk);
    }

    long fileSize() {
        return fileSize;
    }

    /** Makes bytes [pos, pos+n) available in {@link #buf}; returns the index of pos in it. */
    int ensure(long pos, int n) throws IOException {
        if (start >= 0 && pos >= start && pos + n <= start + len) return (int) (pos - start);
        if (pos + n > fileSize) throw new EOFException("read of " + n + " bytes at " + pos + " past end " + fileSize);
        int want = (int) Math.min(Math.max((long) chunk, n), fileSize - pos);
        if (buf.capacity() < want) buf = ByteBuffer.allocate(want);
        buf.clear().limit(want);
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos + buf.position());
            if (r < 0) break;
        }
        int got = buf.position();
        buf.clear();
        start = pos;
        len = got;
        if (got < n) throw new EOFException("short read: " + got + " of " + n + " bytes at " + pos);
        return 0;
    }
}
