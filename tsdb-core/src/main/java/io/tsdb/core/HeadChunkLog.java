package io.tsdb.core;

import io.tsdb.core.chunk.Chunk;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The head chunk log ({@code docs/head-chunks-format.md}): every chunk the head seals is appended,
 * once its samples are in the WAL, to a per-shard file under {@code <store>/chunks_head/}. On open
 * these chunks are attached to their series and the WAL samples they already hold are decoded but
 * not re-encoded: the restart of a killed writer then costs a WAL decode instead of a full
 * re-compression (Prometheus does the same with its memory-mapped head chunks).
 *
 * <p>The log is a cache of the WAL, never the only copy of a sample: a record is used only if its
 * CRC32C and its chunk's own CRC check out, if the WAL reached the offset it states
 * ({@code walEnd}), and if it continues its series' chain ({@code prevMaxT} equals the newest
 * timestamp of the chunk before it). Anything else is ignored and those samples come from the WAL.
 * Files are deleted once a published checkpoint covers every record in them.
 *
 * <pre>
 * file   := header record*
 * header := magic "TSDBHCHK" (8) | u8 version=1 | u8 flags | u32 shard | u32 shardCount | u32 CRC32C(previous 18 bytes)
 * record := u32 bodyLen | u32 ref | u64 prevMaxT | u64 maxT | u64 lastBits | u64 walEnd
 *           | chunk bytes (bodyLen - 36) | u32 CRC32C(bodyLen..chunk)
 * </pre>
 * Integers are big-endian. Flag bit 0: the writer had an out-of-order window (its chunks may have
 * been re-encoded by late samples, so replay checks each covered sample instead of skipping it).
 */
final class HeadChunkLog {
    static final byte[] MAGIC = {'T', 'S', 'D', 'B', 'H', 'C', 'H', 'K'};
    static final int VERSION = 1;
    static final int HEADER_BYTES = 8 + 1 + 1 + 4 + 4 + 4;
    /** u32 bodyLen + u32 ref + u64 prevMaxT + u64 maxT + u64 lastBits + u64 walEnd. */
    static final int RECORD_FIXED = 4 + 4 + 8 + 8 + 8 + 8;

    static final int FLAG_OOO = 1;
    static final String PREFIX = "hc-";
    /** A record's chunk is at most this long (a 120-sample XOR chunk needs under 2.5 KiB). */
    static final int MAX_CHUNK_BYTES = 64 << 10;
    /** A file is rotated once it reaches this size. */
    static final long FILE_BYTES = 16L << 20;

    private HeadChunkLog() {}

    static Path shardDir(Path root, int shard) {
        return NumberedFiles.shardDir(root, shard);
    }

    static Path file(Path shardDir, long seq) {
        return NumberedFiles.file(shardDir, PREFIX, seq);
    }

    /** Sequence numbers of a shard's files, oldest first. */
    static List<Long> list(Path shardDir) throws IOException {
        return NumberedFiles.list(shardDir, PREFIX);
    }

    // ================================================================== loading

    /** One usable record: a sealed chunk of series {@code ref} that follows a chunk ending at {@code prevMaxT}. */
    record Entry(int ref, long prevMaxT, Chunk chunk) {}

    /** What a shard's files held. */
    static final class Loaded {
        /** Usable entries per ref, in seal order. */
        final Map<Integer, List<Entry>> byRef = new HashMap<>();
        /** Files kept, by sequence: the highest walEnd of their records (redundant ones were deleted). */
        final TreeMap<Long, Long> files = new TreeMap<>();

        long entries;
        long bytes;
        boolean ooo;
        final List<String> problems = new ArrayList<>();
    }

    /**
     * Reads a shard's files, keeps the records with {@code coveredBelow < walEnd <= walLimit}, and
     * repairs the files so that each holds only valid records consistent with the WAL: a file is
     * truncated at its first damaged record or at its first record beyond {@code walLimit} (the WAL
     * lost its tail), files after that are deleted, and files whose records are all covered by the
     * loaded checkpoint ({@code walEnd <= coveredBelow}) are deleted.
     */
    @SuppressWarnings(
            "try") // a damaged file's channel is closed before the file is deleted (FileChannel.close is idempotent)
    static Loaded load(Path root, int shard, int shardCount, long walLimit, long coveredBelow) throws IOException {
        Loaded out = new Loaded();
        Path sd = shardDir(root, shard);
        boolean cut = false; // a record beyond the WAL's end was met: every later one is beyond it too
        boolean changed = false;
        for (long seq : list(sd)) {
            Path f = file(sd, seq);
            if (cut) {
                Files.deleteIfExists(f);
                changed = true;
                continue;
            }
            String damage = null;
            long pos = HEADER_BYTES;
            long maxWalEnd = Long.MIN_VALUE;
            try (Window w = new Window(f)) {
                int at = w.ensure(0, HEADER_BYTES);
                String bad = at < 0
                        ? "is shorter than its header (" + w.size + " bytes)"
                        : checkHeader(w.buf, at, shard, shardCount);
                if (bad != null) {
                    out.problems.add(
                            "shard " + shard + ": head chunk file " + f.getFileName() + " " + bad + "; deleted");
                    w.close();
                    Files.deleteIfExists(f);
                    changed = true;
                    continue;
                }
                if ((w.buf[at + 9] & FLAG_OOO) != 0) {
                    out.ooo = true;
                }
                CRC32C crc = new CRC32C();
                Chunk.Slab slab = new Chunk.Slab();
                while (pos < w.size) {
                    at = w.ensure(pos, RECORD_FIXED + 4);
                    if (at < 0) {
                        damage = "torn record at byte " + pos;
                        break;
                    }
                    byte[] b = w.buf;
                    int bodyLen = getInt(b, at);
                    if (bodyLen < RECORD_FIXED - 4 + 8
                            || bodyLen > RECORD_FIXED - 4 + MAX_CHUNK_BYTES
                            || bodyLen + 8L > w.size - pos) {
                        damage = "bad or torn record length " + bodyLen + " at byte " + pos;
                        break;
                    }
                    at = w.ensure(pos, 4 + bodyLen + 4);
                    b = w.buf;
                    int end = at + 4 + bodyLen;
                    crc.reset();
                    crc.update(b, at, 4 + bodyLen);
                    if ((int) crc.getValue() != getInt(b, end)) {
                        damage = "CRC32C mismatch in the record at byte " + pos;
                        break;
                    }
                    int ref = getInt(b, at + 4);
                    long prevMaxT = getLong(b, at + 8);
                    long maxT = getLong(b, at + 16);
                    long lastBits = getLong(b, at + 24);
                    long walEnd = getLong(b, at + 32);
                    if (walEnd > walLimit) {
                        cut = true;
                        damage = "records from byte " + pos + " state WAL offset " + walEnd + ", beyond the WAL's end "
                                + walLimit;
                        break;
                    }
                    if (ref < 0 || ref % shardCount != shard) {
                        damage = "record at byte " + pos + " names series ref " + ref + " of another shard";
                        break;
                    }
                    if (walEnd > coveredBelow) {
                        Chunk c;
                        try {
                            c = Chunk.fromSealedBytes(
                                    b, at + RECORD_FIXED, bodyLen - (RECORD_FIXED - 4), maxT, lastBits, slab);
                        } catch (IllegalArgumentException e) {
                            damage = "record at byte " + pos + ": " + e.getMessage();
                            break;
                        }
                        if (c.minTime() <= prevMaxT) {
                            damage = "record at byte " + pos + " holds a chunk that does not follow t=" + prevMaxT;
                            break;
                        }
                        out.byRef.computeIfAbsent(ref, k -> new ArrayList<>(32)).add(new Entry(ref, prevMaxT, c));
                        out.entries++;
                        out.bytes += 4 + bodyLen + 4;
                    }
                    maxWalEnd = Math.max(maxWalEnd, walEnd);
                    pos += 4 + bodyLen + 4;
                }
            }
            if (damage != null) {
                out.problems.add("shard " + shard + ": head chunk file " + f.getFileName() + ": " + damage
                        + "; truncated there (those samples come from the WAL)");
                truncate(f, pos);
                changed = true;
            }
            if (maxWalEnd == Long.MIN_VALUE || maxWalEnd <= coveredBelow) {
                Files.deleteIfExists(f); // empty, or entirely covered by the checkpoint
                changed = true;
            } else {
                out.files.put(seq, maxWalEnd);
            }
        }
        if (changed) {
            Checkpoints.fsyncDir(sd);
        }
        return out;
    }

    private static String checkHeader(byte[] b, int at, int shard, int shardCount) {
        for (int i = 0; i < MAGIC.length; i++) {
            if (b[at + i] != MAGIC[i]) {
                return "has a bad magic";
            }
        }
        CRC32C crc = new CRC32C();
        crc.update(b, at, HEADER_BYTES - 4);
        if ((int) crc.getValue() != getInt(b, at + HEADER_BYTES - 4)) {
            return "has a header CRC32C mismatch";
        }
        if ((b[at + 8] & 0xFF) != VERSION) {
            return "has unsupported version " + (b[at + 8] & 0xFF);
        }
        if (getInt(b, at + 10) != shard || getInt(b, at + 14) != shardCount) {
            return "belongs to shard " + getInt(b, at + 10) + " of " + getInt(b, at + 14);
        }
        return null;
    }

    /** Sequential reads through a reused buffer (no whole-file array: a large log must not cost its size in heap). */
    private static final class Window implements AutoCloseable {
        private final FileChannel ch;
        final long size;
        byte[] buf = new byte[1 << 20];
        /** File position of buf[0]. */
        private long base;
        /** Valid bytes in buf. */
        private int len;

        Window(Path f) throws IOException {
            ch = FileChannel.open(f, StandardOpenOption.READ);
            size = ch.size();
        }

        /** Index in {@link #buf} of file position {@code pos} with {@code n} bytes readable, or -1 past the end. */
        int ensure(long pos, int n) throws IOException {
            if (pos + n > size) {
                return -1;
            }
            if (pos >= base && pos + n <= base + len) {
                return (int) (pos - base);
            }
            if (n > buf.length) {
                buf = new byte[Math.max(n, buf.length * 2)];
            }
            int keep = pos >= base && pos < base + len ? (int) (base + len - pos) : 0;
            if (keep > 0) {
                System.arraycopy(buf, (int) (pos - base), buf, 0, keep);
            }
            base = pos;
            len = keep;
            ByteBuffer bb = ByteBuffer.wrap(buf, len, (int) Math.min(buf.length - len, size - (pos + len)));
            while (bb.hasRemaining()) {
                int r = ch.read(bb, pos + len + (bb.position() - len));
                if (r < 0) {
                    break;
                }
            }
            len = bb.position();
            return len >= n ? 0 : -1;
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }

    private static void truncate(Path f, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(size);
            ch.force(true);
        }
    }

    static int getInt(byte[] b, int i) {
        return ((b[i] & 0xFF) << 24) | ((b[i + 1] & 0xFF) << 16) | ((b[i + 2] & 0xFF) << 8) | (b[i + 3] & 0xFF);
    }

    static long getLong(byte[] b, int i) {
        return ((long) getInt(b, i) << 32) | (getInt(b, i + 4) & 0xFFFFFFFFL);
    }

    // ================================================================== writing

    /**
     * The writer of one shard's files. Not thread-safe by itself: {@link StorageImpl} calls it from
     * its chunk writer thread and from checkpoints, under the instance's monitor.
     */
    static final class Writer {
        private final Path dir;
        private final int shard;
        private final int shardCount;
        /** Flag {@link #FLAG_OOO} for the files this writer creates (set by a window, or by a replay's late inserts). */
        private boolean ooo;
        /** Closed files: sequence to highest walEnd. */
        private final TreeMap<Long, Long> files;

        private FileChannel ch;
        private long seq;
        private long size;
        private long maxWalEnd = Long.MIN_VALUE;
        private ByteBuffer buf = ByteBuffer.allocate(64 << 10);
        private final CRC32C crc = new CRC32C();
        long written;
        long writtenBytes;

        Writer(Path root, int shard, int shardCount, boolean ooo, TreeMap<Long, Long> existing) {
            this.dir = shardDir(root, shard);
            this.shard = shard;
            this.shardCount = shardCount;
            this.ooo = ooo;
            this.files = new TreeMap<>(existing);
            this.seq = existing.isEmpty() ? 0 : existing.lastKey() + 1;
        }

        /**
         * Appends sealed chunks (all their samples lie below WAL offset {@code walEnd}, which the WAL
         * has already written). On an I/O error the current file is abandoned (a later load
         * truncates it at the damage) and the next call starts a new one.
         */
        synchronized void append(int[] refs, long[] prev, Chunk[] chunks, int n, long walEnd) throws IOException {
            if (n == 0) {
                return;
            }
            buf.clear();
            for (int i = 0; i < n; i++) {
                byte[] cb = chunks[i].toBytes();
                int need = RECORD_FIXED + cb.length + 4;
                if (buf.remaining() < need) {
                    flushBuf();
                    if (buf.capacity() < need) {
                        buf = ByteBuffer.allocate(need);
                    }
                }
                int start = buf.position();
                Chunk c = chunks[i];
                buf.putInt(RECORD_FIXED - 4 + cb.length)
                        .putInt(refs[i])
                        .putLong(prev[i])
                        .putLong(c.maxTime())
                        .putLong(Double.doubleToRawLongBits(c.lastValue()))
                        .putLong(walEnd)
                        .put(cb);
                crc.reset();
                crc.update(buf.array(), start, buf.position() - start);
                buf.putInt((int) crc.getValue());
            }
            flushBuf();
            written += n;
            maxWalEnd = Math.max(maxWalEnd, walEnd);
            if (size >= FILE_BYTES) {
                rotate();
            }
        }

        private void flushBuf() throws IOException {
            buf.flip();
            if (!buf.hasRemaining()) {
                buf.clear();
                return;
            }
            if (ch == null) {
                openNext();
            }
            try {
                while (buf.hasRemaining()) {
                    size += ch.write(buf);
                }
                writtenBytes += buf.limit();
            } catch (IOException e) {
                abandon();
                throw e;
            } finally {
                buf.clear();
            }
        }

        private void openNext() throws IOException {
            Files.createDirectories(dir);
            Path f = file(dir, seq);
            FileChannel c = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            try {
                ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES);
                h.put(MAGIC)
                        .put((byte) VERSION)
                        .put((byte) (ooo ? FLAG_OOO : 0))
                        .putInt(shard)
                        .putInt(shardCount);
                crc.reset();
                crc.update(h.array(), 0, HEADER_BYTES - 4);
                h.putInt((int) crc.getValue()).flip();
                while (h.hasRemaining()) {
                    c.write(h);
                }
            } catch (IOException e) {
                c.close();
                Files.deleteIfExists(f);
                throw e;
            }
            ch = c;
            size = HEADER_BYTES;
            maxWalEnd = Long.MIN_VALUE;
        }

        /**
         * From now on, files are flagged {@link #FLAG_OOO}: chunks this writer logs may have been
         * re-encoded by late samples after they were queued, so a restart must check each WAL sample
         * they seem to cover instead of skipping it. The current file, if any, is closed first.
         */
        synchronized void markOutOfOrder() throws IOException {
            if (!ooo) {
                ooo = true;
                rotate();
            }
        }

        /** Closes the current file (a later one starts with the next sequence number). */
        synchronized void rotate() throws IOException {
            if (ch == null) {
                return;
            }
            FileChannel c = ch;
            ch = null;
            files.put(seq, maxWalEnd);
            seq++;
            c.close();
        }

        private void abandon() {
            FileChannel c = ch;
            ch = null;
            files.put(seq, Long.MAX_VALUE); // unknown content: kept until reopen repairs it
            seq++;
            try {
                c.close();
            } catch (IOException ignored) {
                // the file is being given up
            }
        }

        /**
         * A checkpoint covering every WAL record below {@code walOffset} was published: closes the
         * current file and deletes every file whose records are all below it.
         */
        synchronized void covered(long walOffset) throws IOException {
            rotate();
            boolean any = false;
            for (var it = files.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                if (e.getValue() <= walOffset) {
                    Files.deleteIfExists(file(dir, e.getKey()));
                    it.remove();
                    any = true;
                }
            }
            if (any) {
                Checkpoints.fsyncDir(dir);
            }
        }

        synchronized void close() throws IOException {
            rotate();
        }
    }
}
