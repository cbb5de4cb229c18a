package io.tsdb.bench.baseline;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * The baseline the sharded WAL is measured against: the "before" of the shard plan. One file,
 * one global {@link ReentrantLock}, one {@code write} call per record, and in fsync mode one
 * {@code force} per record, both while holding the lock. No batching, no group commit.
 *
 * <p>It is kept honest rather than naive: the frame (length, CRC32C, payload) is built by the
 * calling thread <em>before</em> it takes the lock, in a per-thread buffer, so the lock covers only
 * what must be serialised (offset assignment, the write, the fsync). Lock wait is measured like
 * the sharded WAL's ({@code WALShard}): an uncontended {@code tryLock} counts zero, otherwise the
 * time from asking for the lock to holding it; summed over appends.
 *
 * <p>File format (big-endian), specified in {@code docs/benchmarks.md}:
 * <pre>
 * file   := header record*
 * header := magic "TBWL" (4 bytes) | version u32 = 1
 * record := length u32 (payload bytes) | crc32c u32 (of the payload) | payload
 * </pre>
 * A record is valid when its length fits in the file and its CRC matches. {@link #open} keeps the
 * valid prefix and truncates the rest (a torn tail); the number of bytes cut is reported by
 * {@link #truncatedBytesOnOpen()}. Record offsets are dense: the i-th record has offset i.
 */
public final class WriteAheadLog implements AutoCloseable {
    /** File magic "TBWL". */
    public static final int MAGIC = 0x5442574C;

    public static final int VERSION = 1;
    public static final int HEADER_BYTES = 8;
    public static final int FRAME_OVERHEAD = 8;
    /** Largest payload accepted (same default as the sharded WAL's record limit order of magnitude). */
    public static final int MAX_RECORD_BYTES = 16 << 20;

    /** Replay callback: the buffer is valid only during the call. */
    @FunctionalInterface
    public interface Handler {
        void onRecord(long offset, ByteBuffer record) throws Exception;
    }

    private final Path file;
    private final FileChannel channel;
    private final boolean fsync;
    private final ReentrantLock lock = new ReentrantLock();
    private final ThreadLocal<ByteBuffer> frames = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(4096));
    private final ThreadLocal<CRC32C> crcs = ThreadLocal.withInitial(CRC32C::new);
    private final long truncatedOnOpen;

    // guarded by lock
    private long nextOffset;
    private long position;
    private boolean closed;
    private IOException failure;

    private final LongAdder appends = new LongAdder();
    private final LongAdder bytes = new LongAdder();
    private final LongAdder lockWaitNanos = new LongAdder();
    private final LongAdder fsyncs = new LongAdder();
    private final LongAdder fsyncNanos = new LongAdder();

    private WriteAheadLog(
            Path file, FileChannel channel, boolean fsync, long nextOffset, long position, long truncated) {
        this.file = file;
        this.channel = channel;
        this.fsync = fsync;
        this.nextOffset = nextOffset;
        this.position = position;
        this.truncatedOnOpen = truncated;
    }

    /**
     * Opens (creating if needed) the log file; {@code fsync} selects one fsync per record.
     * Recovers by keeping the longest valid prefix.
     */
    public static WriteAheadLog open(Path file, boolean fsync) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        FileChannel ch =
                FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            long size = ch.size();
            if (size == 0) {
                ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES)
                        .putInt(MAGIC)
                        .putInt(VERSION)
                        .flip();
                writeFully(ch, h, 0);
                ch.force(true);
                return new WriteAheadLog(file, ch, fsync, 0, HEADER_BYTES, 0);
            }
            ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES);
            if (size < HEADER_BYTES || readFully(ch, h, 0) < HEADER_BYTES) {
                throw new IOException(
                        file + ": not a baseline WAL file (shorter than its " + HEADER_BYTES + "-byte header)");
            }
            h.flip();
            int magic = h.getInt();
            int version = h.getInt();
            if (magic != MAGIC) {
                throw new IOException(file + ": bad magic 0x" + Integer.toHexString(magic) + ", expected 0x"
                        + Integer.toHexString(MAGIC));
            }
            if (version != VERSION) {
                throw new IOException(
                        file + ": unsupported baseline WAL version " + version + " (this build reads " + VERSION + ")");
            }
            long[] scan = scan(ch, null);
            long validEnd = scan[1];
            long truncated = size - validEnd;
            if (truncated > 0) {
                ch.truncate(validEnd);
                ch.force(true);
            }
            return new WriteAheadLog(file, ch, fsync, scan[0], validEnd, truncated);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /**
     * Appends one record; {@code key} and {@code attribute} are accepted for signature parity with
     * the sharded WAL and ignored (one file, no routing, no index). Returns the record's offset once
     * written (and forced in fsync mode).
     */
    public long append(long key, ByteBuffer record, long attribute) throws IOException {
        int len = record.remaining();
        if (len > MAX_RECORD_BYTES) {
            throw new IllegalArgumentException(
                    "record of " + len + " bytes exceeds the maximum of " + MAX_RECORD_BYTES);
        }
        ByteBuffer frame = frames.get();
        if (frame.capacity() < len + FRAME_OVERHEAD) {
            frame = ByteBuffer.allocateDirect(Integer.highestOneBit(len + FRAME_OVERHEAD) << 1);
            frames.set(frame);
        }
        CRC32C crc = crcs.get();
        crc.reset();
        crc.update(record.duplicate());
        frame.clear();
        frame.putInt(len).putInt((int) crc.getValue()).put(record.duplicate()).flip();

        if (!lock.tryLock()) {
            long t0 = System.nanoTime();
            lock.lock();
            lockWaitNanos.add(System.nanoTime() - t0);
        }
        try {
            if (closed) {
                throw new IOException(file + ": append after close");
            }
            if (failure != null) {
                throw new IOException(file + ": refusing writes after an earlier I/O failure", failure);
            }
            try {
                writeFully(channel, frame, position);
                if (fsync) {
                    long f0 = System.nanoTime();
                    channel.force(false);
                    fsyncNanos.add(System.nanoTime() - f0);
                    fsyncs.increment();
                }
            } catch (IOException e) {
                failure = e; // never retry a failed write/fsync and report success
                throw e;
            }
            position += FRAME_OVERHEAD + len;
            appends.increment();
            bytes.add(len);
            return nextOffset++;
        } finally {
            lock.unlock();
        }
    }

    /** Reads every valid record in order; returns the number of records. */
    public long replay(Handler handler) throws IOException {
        lock.lock();
        try {
            if (closed) {
                throw new IOException(file + ": replay after close");
            }
            return scan(channel, handler)[0];
        } finally {
            lock.unlock();
        }
    }

    /** Scans records from the header on; returns {count, end position of the valid prefix}. */
    private static long[] scan(FileChannel ch, Handler handler) throws IOException {
        long size = ch.size();
        long pos = HEADER_BYTES;
        long count = 0;
        ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
        buf.limit(0);
        long bufStart = pos; // file position of buf[0]; buf holds [bufStart, bufStart + limit)
        CRC32C crc = new CRC32C();
        while (pos + FRAME_OVERHEAD <= size) {
            int rel = (int) (pos - bufStart);
            if (rel + FRAME_OVERHEAD > buf.limit()) {
                buf.clear();
                readFully(ch, buf, pos);
                buf.flip();
                bufStart = pos;
                rel = 0;
                if (buf.limit() < FRAME_OVERHEAD) {
                    break;
                }
            }
            int len = buf.getInt(rel);
            int want = buf.getInt(rel + 4);
            if (len < 0 || len > MAX_RECORD_BYTES || pos + FRAME_OVERHEAD + len > size) {
                break; // torn or garbage length
            }
            if (rel + FRAME_OVERHEAD + len > buf.limit()) {
                if (buf.capacity() < FRAME_OVERHEAD + len) {
                    buf = ByteBuffer.allocateDirect(FRAME_OVERHEAD + len);
                }
                buf.clear();
                readFully(ch, buf, pos);
                buf.flip();
                bufStart = pos;
                rel = 0;
                if (buf.limit() < FRAME_OVERHEAD + len) {
                    break;
                }
            }
            ByteBuffer payload = buf.duplicate();
            payload.limit(rel + FRAME_OVERHEAD + len).position(rel + FRAME_OVERHEAD);
            crc.reset();
            crc.update(payload.duplicate());
            if ((int) crc.getValue() != want) {
                break; // torn or corrupt record: the valid prefix ends here
            }
            if (handler != null) {
                try {
                    handler.onRecord(count, payload.slice().asReadOnlyBuffer());
                } catch (IOException | RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IOException("replay handler failed at record " + count, e);
                }
            }
            count++;
            pos += FRAME_OVERHEAD + len;
        }
        return new long[] {count, pos};
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        // A FileChannel positional write of a direct buffer is a single pwrite for these sizes;
        // the loop only covers a short write.
        while (b.hasRemaining()) {
            pos += ch.write(b, pos);
        }
    }

    private static int readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        int total = 0;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    /** Number of records (the next offset). */
    public long nextOffset() {
        lock.lock();
        try {
            return nextOffset;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes cut from a torn or corrupt tail when the file was opened. */
    public long truncatedBytesOnOpen() {
        return truncatedOnOpen;
    }

    public long appends() {
        return appends.sum();
    }

    public long payloadBytes() {
        return bytes.sum();
    }

    /** Total nanoseconds appenders spent waiting for the global lock. */
    public long lockWaitNanosTotal() {
        return lockWaitNanos.sum();
    }

    public long fsyncCount() {
        return fsyncs.sum();
    }

    public long fsyncNanosTotal() {
        return fsyncNanos.sum();
    }

    /** File size in bytes. */
    public long diskBytes() throws IOException {
        return channel.size();
    }

    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            if (failure == null) {
                channel.force(true);
            }
            channel.close();
        } finally {
            lock.unlock();
        }
    }
}
