package io.tsdb.wal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
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
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.HdrHistogram.Histogram;

/**
 * One shard of a {@link ShardedWAL}: its own lock, batch, segments, index and anchor.
 *
 * <p>Write path (group commit, leader/follower): an append encodes its records into the shard's
 * in-RAM batch under the {@link ReentrantLock} (the time spent acquiring it is measured) and gets
 * dense offsets. A writer that must wait for a write (PAGE_CACHE) or an fsync (SYNC_BATCH) becomes
 * the <em>leader</em> when no flush is in progress: it swaps the batch out under the lock, then,
 * outside the lock, encodes it as one block, writes it with one {@code FileChannel.write}, forces
 * the file in SYNC_BATCH, and wakes every writer whose records the block covered. Writers arriving
 * meanwhile fill the next batch. ASYNC appends return at once; a background flusher writes their
 * batch after the flush interval, or the writer that fills the batch to its byte/record limit does.
 */
public final class WALShard {
    private static final long HIST_MAX = TimeUnit.HOURS.toNanos(1);
    /**
     * Read window of a replay: 1 MiB keeps the per-shard buffer (and the JDK's temporary direct
     * buffer behind a heap-buffer read) small next to the head being rebuilt; larger blocks still
     * get a window of their own size.
     */
    private static final int REPLAY_WINDOW_BYTES = 1 << 20;

    private final int id;
    private final Path dir;
    private final WalOptions opt;
    private final Disk disk;
    private final RecoveryReport report;
    private final boolean strict;
    private final Durability durability;
    private final long maxBuffered;
    private final long backpressureNanos;
    private final int maxBatchBytes;
    private final int maxBatchRecords;

    // ---- guarded by lock -------------------------------------------------------------------
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition done = lock.newCondition();
    /** Writers of batch seq wait on batchDone[seq & 1]: a finished block wakes only its own writers. */
    private final Condition[] batchDone = {lock.newCondition(), lock.newCondition()};
    private final Condition space = lock.newCondition();
    private byte[] cur = new byte[64 << 10];
    private int curLen;
    private int curCount;
    private long curMin = Long.MAX_VALUE;
    private long curMax = Long.MIN_VALUE;
    private long curFirst;
    private long curStartNanos;
    private byte[] spare;
    private long nextOffset;
    private long batchSeq = 1;
    private long writtenSeq;
    private long syncedSeq;
    private boolean flushing;
    private long bufferedBytes;
    private Throwable failure;
    private long failedSeq = -1;
    private boolean closed;
    private long anchoredSeq;
    // stats
    private long appends, records, rawBytes, storedBytes, blocks, blockRecords, maxBlockRecords;
    private long lockWaitTotalNanos, backpressureEvents, fsyncs, fsyncNanosTotal;
    private final Histogram lockWaitHist = new Histogram(HIST_MAX, 2);
    private final Histogram ackHist = new Histogram(HIST_MAX, 2);
    private final Histogram fsyncHist = new Histogram(HIST_MAX, 2);
    private long rateLastNanos = System.nanoTime(), rateLastRecords, rateLastBytes;
    private double rateRecords, rateBytes;
    private volatile double replaySeconds;
    private volatile long replayRecords, replayBytes;

    // ---- owned by the flush leader (flushing == true), handed over through the lock -------
    private final BlockCodec.Encoder encoder = new BlockCodec.Encoder();
    private Segment active;
    private FileChannel activeCh;
    private long activePos;
    private long syncedEnd;
    private long anchorSeq;

    // ---- segment list (copy-on-write) -------------------------------------------------------
    private final Object segLock = new Object();
    private volatile List<Segment> segments = List.of();

    private WALShard(int id, Path dir, WalOptions opt, RecoveryReport report) {
        this.id = id;
        this.dir = dir;
        this.opt = opt;
        this.disk = opt.disk();
        this.report = report;
        this.strict = opt.strict();
        this.durability = opt.durability();
        this.maxBuffered = opt.maxBufferedBytesPerShard();
        this.backpressureNanos = opt.backpressureTimeout().toNanos();
        this.maxBatchBytes = opt.maxBatchBytes();
        this.maxBatchRecords = opt.maxBatchRecords();
    }

    /** This shard's index. */
    public int id() { return id; }

    /** This shard's directory. */
    public Path directory() { return dir; }

    static Path shardDir(Path root, int id) { return root.resolve(String.format("shard-%03d", id)); }

    // =========================================================================================
    // Recovery
    // =========================================================================================

    /** A shard whose files could not be read: refuses writes, replays nothing. */
    static WALShard unreadable(int id, Path root, WalOptions opt, RecoveryReport report, Throwable cause) {
        WALShard s = new WALShard(id, shardDir(root, id), opt, report);
        s.failure = cause;
        s.failedSeq = -1;
        report.add(new RecoveryReport.Event(RecoveryReport.Kind.SHARD_UNREADABLE, id, null, -1, -1, -1, 0,
                String.valueOf(cause)));
        return s;
    }

    static WALShard open(int id, Path root, WalOptions opt, RecoveryReport report) throws IOException {
        Path dir = shardDir(root, id);
        Files.createDirectories(dir);
        WALShard s = new WALShard(id, dir, opt, report);
        s.recover();
        return s;
    }

    private void event(RecoveryReport.Kind kind, String segment, long pos, long firstLost, long lostRecords,
                       long lostBytes, String detail) {
        report.add(new RecoveryReport.Event(kind, id, segment, pos, firstLost, lostRecords, lostBytes, detail));
    }

    private void recover() throws IOException {
        Path tmp = dir.resolve(Anchor.TEMP);
        if (Files.exists(tmp)) {
            disk.delete(tmp);
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
                disk.delete(p);
                event(RecoveryReport.Kind.FILE_REMOVED, n, -1, -1, -1, 0, "orphan index without segment");
            }
        }
        Anchor anchor = null;
        boolean anchorOk = true;
        try {
            anchor = Anchor.read(disk, dir);
            if (anchor == null && !bases.isEmpty()) {
                anchorOk = false;
                event(RecoveryReport.Kind.ANCHOR_REBUILT, Anchor.FILE, -1, -1, -1, 0, "anchor missing");
            }
        } catch (IOException e) {
            anchorOk = false;
            event(RecoveryReport.Kind.ANCHOR_REBUILT, Anchor.FILE, -1, -1, -1, 0, e.getMessage());
        }
        if (anchor != null) {
            Path seg = dir.resolve(Segment.fileName(anchor.segmentBase()));
            String bad = null;
            if (Files.exists(seg)) {
                if (anchor.position() > Files.size(seg)) bad = "anchor points past the end of " + seg.getFileName();
            } else if (bases.isEmpty() || anchor.segmentBase() > bases.get(bases.size() - 1)) {
                bad = "anchor points to a missing segment " + seg.getFileName();
            }
            if (bad != null) {
                event(RecoveryReport.Kind.ANCHOR_REBUILT, Anchor.FILE, -1, -1, -1, 0, bad);
                anchor = null;
                anchorOk = false;
            } else {
                anchorSeq = anchor.sequence();
            }
        }
        long durable = anchor != null ? anchor.committedOffset() : 0;

        List<Segment> segs = new ArrayList<>();
        ByteBuffer scanBuf = ByteBuffer.allocate(1 << 20);
        for (int i = 0; i < bases.size(); i++) {
            boolean last = i == bases.size() - 1;
            Segment s = new Segment(dir, bases.get(i));
            long limit = last ? Long.MAX_VALUE : bases.get(i + 1);
            long fileSize = Files.size(s.path);
            if (!last) {
                String why = Files.exists(s.idxPath) ? s.index.load(disk, s.idxPath, s.base, fileSize, limit) : "index missing";
                if (why == null) {
                    int n = s.index.size();
                    SegmentIndex.Entries e = s.index.entries();
                    s.size = fileSize;
                    s.endOffset = n == 0 ? s.base : e.first[n - 1] + e.count[n - 1];
                } else {
                    event(RecoveryReport.Kind.INDEX_REBUILT, s.idxPath.getFileName().toString(), -1, -1, -1, 0, why);
                    durable = scan(s, fileSize, durable, true, scanBuf);
                    s.index.write(disk, s.idxPath, s.base);
                }
            } else {
                durable = scan(s, fileSize, durable, false, scanBuf);
            }
            if (!segs.isEmpty()) {
                Segment prev = segs.get(segs.size() - 1);
                if (prev.endOffset < s.base) {
                    event(RecoveryReport.Kind.OFFSET_GAP, s.name, 0, prev.endOffset, s.base - prev.endOffset, 0,
                            "offsets " + prev.endOffset + ".." + (s.base - 1) + " missing before this segment");
                } else if (prev.endOffset > s.base) {
                    throw new WalCorruptionException(id, s.name, 0, "segment base " + s.base
                            + " overlaps the previous segment ending at offset " + prev.endOffset);
                }
            }
            segs.add(s);
        }
        if (segs.isEmpty()) {
            long base = anchor != null ? anchor.committedOffset() : 0;
            Segment s = new Segment(dir, base);
            createSegmentFile(s);
            segs.add(s);
        }
        Segment last = segs.get(segs.size() - 1);
        activeCh = disk.open(last.path, EnumSet.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
        active = last;
        activePos = last.size;
        nextOffset = last.endOffset;
        syncedEnd = nextOffset;
        segments = List.copyOf(segs);
        if (anchor == null || !anchorOk || anchor.segmentBase() != last.base || anchor.position() != activePos
                || anchor.committedOffset() != nextOffset) {
            // what we recovered may be only in the page cache (kill -9): force it before anchoring it
            activeCh.force(true);
            writeAnchor();
        }
    }

    /** Validates a segment block by block (header + CRC), fills its index, truncates a torn tail. */
    private long scan(Segment s, long fileSize, long durable, boolean sealed, ByteBuffer buf) throws IOException {
        s.index.clear();
        try (FileChannel ch = disk.open(s.path, EnumSet.of(StandardOpenOption.READ, StandardOpenOption.WRITE))) {
            FileWindow w = new FileWindow(ch, fileSize, buf.capacity(), buf);
            BlockCodec.Decoder dec = new BlockCodec.Decoder();
            BlockCodec.Header h = new BlockCodec.Header();
            long pos = 0;
            long expected = s.base;
            boolean afterSkip = false;
            while (pos < fileSize) {
                String why = tryBlock(w, dec, h, pos, fileSize, expected, afterSkip);
                if (why == null) {
                    s.index.add(h.firstOffset, pos, h.blockLength(), h.recordCount, h.minAttribute, h.maxAttribute);
                    durable = Math.max(durable, h.syncedOffset);
                    expected = h.firstOffset + h.recordCount;
                    pos += h.blockLength();
                    afterSkip = false;
                    continue;
                }
                BlockCodec.Header h2 = new BlockCodec.Header();
                long q = resync(w, dec, h2, pos + 1, fileSize, expected);
                boolean attested = sealed || expected < durable || (q >= 0 && h2.syncedOffset > expected);
                if (attested) {
                    if (strict) throw new WalCorruptionException(id, s.name, pos, why);
                    if (q >= 0) {
                        event(RecoveryReport.Kind.CORRUPT_BLOCK_SKIPPED, s.name, pos, expected, h2.firstOffset - expected,
                                q - pos, why);
                        pos = q;
                        afterSkip = true;
                        continue;
                    }
                    event(RecoveryReport.Kind.CORRUPT_TAIL_TRUNCATED, s.name, pos, expected, -1, fileSize - pos, why);
                } else {
                    event(RecoveryReport.Kind.TORN_TAIL_TRUNCATED, s.name, pos, expected, -1, fileSize - pos, why);
                }
                ch.truncate(pos);
                ch.force(true);
                break;
            }
            s.size = pos;
            s.endOffset = expected;
            return durable;
        }
    }

    private static String tryBlock(FileWindow w, BlockCodec.Decoder dec, BlockCodec.Header h, long pos, long fileSize,
                                   long expected, boolean afterSkip) throws IOException {
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

    /** Finds the next valid block at or after {@code from}; -1 if none. */
    private static long resync(FileWindow w, BlockCodec.Decoder dec, BlockCodec.Header h, long from, long fileSize,
                               long expected) throws IOException {
        for (long p = from; p + BlockCodec.HEADER_BYTES <= fileSize; p++) {
            int at = w.ensure(p, 4);
            if (w.buf.getInt(at) != BlockCodec.MAGIC) continue;
            if (tryBlock(w, dec, h, p, fileSize, expected, true) == null) return p;
        }
        return -1;
    }

    private void createSegmentFile(Segment s) throws IOException {
        try (FileChannel ch = disk.open(s.path, EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))) {
            ch.force(true);
        }
        disk.syncDirectory(dir);
        s.size = 0;
        s.endOffset = s.base;
    }

    /** Leader only: anchors the fsynced state (active segment, position, offset). */
    private void writeAnchor() throws IOException {
        anchorSeq++;
        new Anchor(anchorSeq, active.base, activePos, syncedEnd).write(disk, dir);
    }

    // =========================================================================================
    // Appends
    // =========================================================================================

    /** Appends one record; returns its offset once acknowledged per the durability mode. */
    public long append(ByteBuffer record, long attribute) throws IOException {
        Objects.requireNonNull(record, "record");
        return doAppend(record, null, attribute, attribute);
    }

    /**
     * Appends records contiguously with one acknowledgement; returns the offset of the last one.
     * {@code minAttribute <= maxAttribute} are the batch's attribute bounds.
     */
    public long appendBatch(List<ByteBuffer> records, long minAttribute, long maxAttribute) throws IOException {
        Objects.requireNonNull(records, "records");
        if (records.isEmpty()) throw new IllegalArgumentException("records must not be empty (shard " + id + ")");
        if (minAttribute > maxAttribute)
            throw new IllegalArgumentException("minAttribute " + minAttribute + " > maxAttribute " + maxAttribute);
        return doAppend(null, records, minAttribute, maxAttribute);
    }

    private long doAppend(ByteBuffer single, List<ByteBuffer> list, long minAttr, long maxAttr) throws IOException {
        final long t0 = System.nanoTime();
        final int maxRecord = opt.maxRecordBytes();
        int n;
        long payload = 0, raw = 0;
        if (single != null) {
            int l = single.remaining();
            if (l > maxRecord) throw new RecordTooLargeException("record of " + l + " bytes exceeds maxRecordBytes " + maxRecord);
            n = 1;
            raw = l;
            payload = l + BlockCodec.varintSize(l);
        } else {
            n = list.size();
            for (int i = 0; i < n; i++) {
                ByteBuffer r = list.get(i);
                if (r == null) throw new NullPointerException("records[" + i + "] is null");
                int l = r.remaining();
                if (l > maxRecord)
                    throw new RecordTooLargeException("records[" + i + "] of " + l + " bytes exceeds maxRecordBytes " + maxRecord);
                raw += l;
                payload += l + BlockCodec.varintSize(l);
            }
        }
        if (payload > maxBuffered)
            throw new RecordTooLargeException("append of " + payload + " bytes exceeds maxBufferedBytesPerShard "
                    + maxBuffered + " (shard " + id + ")");
        long lw = 0;
        if (!lock.tryLock()) {
            long a = System.nanoTime();
            lock.lock();
            lw = System.nanoTime() - a;
        }
        try {
            checkWritable();
            if (bufferedBytes + payload > maxBuffered) waitForSpace(payload);
            // encode into the current batch
            if (curCount == 0) {
                curFirst = nextOffset;
                curStartNanos = t0;
            }
            int need = curLen + (int) payload;
            if (need > cur.length) cur = java.util.Arrays.copyOf(cur, Math.max(need, Math.min(cur.length * 2, BlockCodec.MAX_PAYLOAD_BYTES)));
            byte[] c = cur;
            int at = curLen;
            if (single != null) {
                int l = single.remaining();
                at = BlockCodec.putVarint(c, at, l);
                single.get(single.position(), c, at, l);
                at += l;
            } else {
                for (int i = 0; i < n; i++) {
                    ByteBuffer r = list.get(i);
                    int l = r.remaining();
                    at = BlockCodec.putVarint(c, at, l);
                    r.get(r.position(), c, at, l);
                    at += l;
                }
            }
            curLen = at;
            curCount += n;
            if (minAttr < curMin) curMin = minAttr;
            if (maxAttr > curMax) curMax = maxAttr;
            nextOffset += n;
            bufferedBytes += payload;
            final long last = nextOffset - 1;
            final long mySeq = batchSeq;
            appends++;
            records += n;
            rawBytes += raw;
            lockWaitTotalNanos += lw;
            lockWaitHist.recordValue(lw);
            boolean full = curLen >= maxBatchBytes || curCount >= maxBatchRecords;
            switch (durability) {
                case ASYNC -> {
                    if (full && !flushing) {
                        lead(false, false);
                        throwIfFailed(mySeq);
                    }
                }
                case PAGE_CACHE -> awaitDone(mySeq, false);
                case SYNC_BATCH -> awaitDone(mySeq, true);
            }
            ackHist.recordValue(Math.max(0, System.nanoTime() - t0));
            return last;
        } finally {
            lock.unlock();
        }
    }

    private void checkWritable() {
        if (closed) throw new WalClosedException("shard " + id + " is closed");
        if (failure != null)
            throw new ShardFailedException("shard " + id + " refuses writes after an I/O failure (reopen to recover): " + failure, failure);
    }

    private void waitForSpace(long payload) throws IOException {
        backpressureEvents++;
        long deadline = System.nanoTime() + backpressureNanos;
        while (bufferedBytes + payload > maxBuffered) {
            checkWritable();
            if (!flushing && curCount > 0 && (curLen >= maxBatchBytes || curCount >= maxBatchRecords)) {
                lead(false, false);
                continue;
            }
            long rem = deadline - System.nanoTime();
            if (rem <= 0)
                throw new WalBackpressureException("shard " + id + ": " + bufferedBytes + " bytes buffered, append of "
                        + payload + " bytes would exceed maxBufferedBytesPerShard " + maxBuffered + " for longer than "
                        + opt.backpressureTimeout());
            try {
                space.awaitNanos(rem);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for buffer space in shard " + id);
            }
        }
        checkWritable();
    }

    private void throwIfFailed(long seq) throws IOException {
        if (failure == null) return;
        if (seq == failedSeq) {
            throw new IOException("shard " + id + ": writing/fsyncing the block with these records failed: " + failure, failure);
        }
        throw new ShardFailedException("shard " + id + " failed before these records were written: " + failure, failure);
    }

    /** Waits (under the lock) until batch {@code seq} is written (and fsynced if {@code sync}). */
    private void awaitDone(long seq, boolean sync) throws IOException {
        while (true) {
            if (sync ? syncedSeq >= seq : writtenSeq >= seq) return;
            throwIfFailed(seq);
            if (!flushing) {
                lead(sync, false);
            } else {
                try {
                    batchDone[(int) (seq & 1)].await();
                } catch (InterruptedException e) {
                    // we may have been the writer picked to lead the next batch: pass that on
                    batchDone[(int) (seq & 1)].signal();
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting for shard " + id + " to write");
                }
            }
        }
    }

    /**
     * Called with the lock held and no flush in progress: swaps out the current batch (if any),
     * then outside the lock writes it as one block, fsyncs if asked (or in SYNC_BATCH) and writes
     * the anchor if asked; re-acquires the lock and publishes the result.
     */
    private void lead(boolean sync, boolean anchor) {
        flushing = true;
        byte[] payload = null;
        int len = 0, count = 0;
        long first = 0, mn = 0, mx = 0, seq = writtenSeq;
        if (curCount > 0) {
            payload = cur;
            len = curLen;
            count = curCount;
            first = curFirst;
            mn = curMin;
            mx = curMax;
            seq = batchSeq;
            cur = spare != null ? spare : new byte[Math.max(64 << 10, Math.min(len, maxBatchBytes * 2))];
            spare = null;
            curLen = 0;
            curCount = 0;
            curMin = Long.MAX_VALUE;
            curMax = Long.MIN_VALUE;
            batchSeq++;
        }
        boolean doSync = sync || anchor || durability == Durability.SYNC_BATCH;
        boolean needSync = doSync && (payload != null || syncedSeq < writtenSeq || anchor);
        lock.unlock();
        Throwable err = null;
        int stored = 0;
        long fsyncNanos = -1;
        try {
            if (payload != null) stored = writeBlock(payload, len, first, count, mn, mx);
            if (needSync) {
                long f0 = System.nanoTime();
                activeCh.force(false);
                fsyncNanos = System.nanoTime() - f0;
                syncedEnd = active.endOffset;
                if (anchor) writeAnchor();
            }
            if (activePos >= opt.segmentBytes()) roll();
        } catch (Throwable t) {
            err = t;
        } finally {
            lock.lock();
        }
        flushing = false;
        if (payload != null) {
            bufferedBytes -= len;
            if (spare == null && payload.length <= Math.max(64 << 10, maxBatchBytes * 2)) spare = payload;
        }
        if (err == null) {
            if (payload != null) {
                writtenSeq = seq;
                blocks++;
                blockRecords += count;
                if (count > maxBlockRecords) maxBlockRecords = count;
                storedBytes += stored;
            }
            if (anchor) anchoredSeq = writtenSeq;
            if (fsyncNanos >= 0) {
                syncedSeq = writtenSeq;
                fsyncs++;
                fsyncNanosTotal += fsyncNanos;
                fsyncHist.recordValue(fsyncNanos);
            }
        } else if (failure == null) {
            failure = err;
            failedSeq = payload != null ? seq : -1;
            // records of the pending batch will never be written: release their buffer space
            bufferedBytes -= curLen;
            curLen = 0;
            curCount = 0;
        }
        done.signalAll();
        if (err != null) {
            batchDone[0].signalAll();
            batchDone[1].signalAll();
        } else {
            batchDone[(int) (writtenSeq & 1)].signalAll();
            // one writer of the pending batch becomes its leader; the others sleep until it is written
            if (curCount > 0) batchDone[(int) (batchSeq & 1)].signal();
        }
        space.signalAll();
    }

    /** Leader only: encodes and writes one block with one write call. */
    private int writeBlock(byte[] payload, int len, long first, int count, long mn, long mx) throws IOException {
        int blockLen = encoder.encode(payload, len, first, syncedEnd, count, mn, mx, opt.compression());
        ByteBuffer bb = encoder.outBuffer(blockLen);
        long pos = activePos;
        while (bb.hasRemaining()) {
            int w = activeCh.write(bb, pos + bb.position());
            if (w <= 0 && bb.hasRemaining()) throw new IOException("write returned " + w + " on " + active.path);
        }
        activePos = pos + blockLen;
        encoder.trim(4 * maxBatchBytes);
        active.index.add(first, pos, blockLen, count, mn, mx);
        active.size = activePos;
        active.endOffset = first + count;
        return blockLen;
    }

    /** Leader only: seals the active segment and starts the next. */
    private void roll() throws IOException {
        long f0 = System.nanoTime();
        activeCh.force(true);
        long fn = System.nanoTime() - f0;
        lock.lock();
        try {
            fsyncs++;
            fsyncNanosTotal += fn;
            fsyncHist.recordValue(fn);
        } finally {
            lock.unlock();
        }
        syncedEnd = active.endOffset;
        Segment old = active;
        old.index.write(disk, old.idxPath, old.base);
        Segment next = new Segment(dir, old.endOffset);
        createSegmentFile(next);
        FileChannel ch = disk.open(next.path, EnumSet.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
        FileChannel oldCh = activeCh;
        synchronized (segLock) {
            List<Segment> l = new ArrayList<>(segments);
            l.add(next);
            segments = List.copyOf(l);
        }
        active = next;
        activeCh = ch;
        activePos = 0;
        oldCh.close();
        writeAnchor();
    }

    // =========================================================================================
    // Flush, sync, close, background work
    // =========================================================================================

    /** Writes out the pending batch and waits for it (and its fsync in SYNC_BATCH). */
    public void flush() throws IOException {
        lock.lock();
        try {
            if (closed) return;
            long target = curCount > 0 ? batchSeq : writtenSeq;
            if (target == 0 && curCount == 0) return;
            awaitDone(target, durability == Durability.SYNC_BATCH);
        } finally {
            lock.unlock();
        }
    }

    /** Writes out the pending batch, fsyncs and updates the anchor. */
    public void sync() throws IOException {
        lock.lock();
        try {
            if (closed) return;
            syncLocked();
        } finally {
            lock.unlock();
        }
    }

    private void syncLocked() throws IOException {
        while (true) {
            if (failure != null) throw new IOException("shard " + id + " failed: " + failure, failure);
            if (!flushing) {
                lead(true, true);
                if (failure != null) throw new IOException("shard " + id + " sync failed: " + failure, failure);
                if (curCount == 0) return;
            } else {
                done.awaitUninterruptibly();
            }
        }
    }

    /** Background flusher tick: writes a batch older than {@code intervalNanos}; never blocks on I/O of others. */
    void tick(long now, long intervalNanos, boolean periodicSync) {
        if (!lock.tryLock()) return;
        try {
            if (closed || failure != null || flushing) return;
            if (periodicSync) {
                if (curCount > 0 || writtenSeq != anchoredSeq) lead(true, true);
            } else if (curCount > 0 && now - curStartNanos >= intervalNanos) {
                lead(false, false);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Flushes, fsyncs, writes index and anchor, closes files. Idempotent. */
    void close() throws IOException {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            space.signalAll();
            while (flushing) done.awaitUninterruptibly();
            IOException err = null;
            if (failure == null && activeCh != null && (curCount > 0 || writtenSeq != anchoredSeq)) {
                lead(true, true);
                while (curCount > 0 && failure == null) {
                    while (flushing) done.awaitUninterruptibly();
                    lead(true, true);
                }
                if (failure != null) err = new IOException("shard " + id + ": final flush failed: " + failure, failure);
                else {
                    try {
                        active.index.write(disk, active.idxPath, active.base);
                    } catch (IOException e) {
                        err = e;
                    }
                }
            }
            if (activeCh != null) activeCh.close();
            done.signalAll();
            if (err != null) throw err;
        } finally {
            lock.unlock();
        }
    }

    // =========================================================================================
    // Replay, truncation, figures
    // =========================================================================================

    private static final class HandlerFailure extends RuntimeException {
        final long offset;
        HandlerFailure(long offset, Throwable cause) {
            super(cause);
            this.offset = offset;
        }
    }

    private static final class ReplayCounter implements BlockCodec.RecordVisitor {
        final RecordHandler handler;
        long records, bytes;
        ReplayCounter(RecordHandler h) { handler = h; }
        @Override
        public void accept(long offset, ByteBuffer record) {
            records++;
            bytes += record.remaining();
            try {
                handler.onRecord(offset, record);
            } catch (Exception e) {
                throw new HandlerFailure(offset, e);
            }
        }
    }

    /**
     * Replays this shard's records with offset >= {@code from} in offset order to {@code handler}
     * on the calling thread. Damaged blocks are skipped and reported (strict: WalCorruptionException).
     */
    public ReplayResult replay(long from, RecordHandler handler) throws IOException {
        Objects.requireNonNull(handler, "handler");
        long t0 = System.nanoTime();
        List<Segment> segs = segments;
        List<Segment> use = new ArrayList<>();
        List<FileChannel> chans = new ArrayList<>();
        ReplayCounter counter = new ReplayCounter(handler);
        long blocksRead = 0;
        try {
            for (int i = 0; i < segs.size(); i++) {
                Segment s = segs.get(i);
                long end = i + 1 < segs.size() ? segs.get(i + 1).base : Long.MAX_VALUE;
                if (end <= from) continue;
                try {
                    chans.add(disk.open(s.path, EnumSet.of(StandardOpenOption.READ)));
                    use.add(s);
                } catch (NoSuchFileException e) {
                    // truncated concurrently: its records are below a checkpoint
                }
            }
            BlockCodec.Decoder dec = new BlockCodec.Decoder();
            BlockCodec.Header h = new BlockCodec.Header();
            ByteBuffer buf = null;
            for (int si = 0; si < use.size(); si++) {
                Segment s = use.get(si);
                int n = s.index.size();
                SegmentIndex.Entries e = s.index.entries();
                if (n == 0) continue;
                long validEnd = e.pos[n - 1] + e.len[n - 1];
                FileWindow w = new FileWindow(chans.get(si), validEnd, REPLAY_WINDOW_BYTES, buf);
                for (int i = SegmentIndex.search(e, n, from); i < n; i++) {
                    long pos = e.pos[i];
                    int len = e.len[i];
                    try {
                        int at = w.ensure(pos, len);
                        String why = dec.parseHeader(w.buf, at, len, h);
                        if (why == null && (h.firstOffset != e.first[i] || h.recordCount != e.count[i] || h.blockLength() != len))
                            why = "block header disagrees with its index entry";
                        if (why != null) throw new CorruptBlockException(why);
                        dec.decode(w.buf, at, h, from, counter);
                        blocksRead++;
                    } catch (CorruptBlockException | EOFException ex) {
                        if (strict) throw new WalCorruptionException(id, s.name, pos, ex.getMessage());
                        event(RecoveryReport.Kind.CORRUPT_BLOCK_SKIPPED, s.name, pos, e.first[i], e.count[i], len,
                                "found during replay: " + ex.getMessage());
                    } catch (HandlerFailure hf) {
                        throw new IOException("replay handler of shard " + id + " failed at offset " + hf.offset
                                + ": " + hf.getCause(), hf.getCause());
                    } catch (IOException ex) {
                        throw ex;
                    } catch (Exception ex) {
                        throw new IOException("replay of shard " + id + " failed at " + s.name + " position " + pos, ex);
                    }
                }
                buf = w.buf;
            }
        } finally {
            for (FileChannel c : chans) {
                try { c.close(); } catch (IOException ignored) { }
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        replaySeconds = secs;
        replayRecords = counter.records;
        replayBytes = counter.bytes;
        return new ReplayResult(counter.records, counter.bytes, blocksRead, secs);
    }

    /** Deletes whole segments whose records are all below {@code offset}; never the active one. Returns how many. */
    public int truncateBefore(long offset) throws IOException {
        List<Segment> del = new ArrayList<>();
        synchronized (segLock) {
            List<Segment> l = segments;
            List<Segment> keep = new ArrayList<>();
            for (int i = 0; i < l.size(); i++) {
                Segment s = l.get(i);
                boolean last = i == l.size() - 1;
                if (!last && l.get(i + 1).base <= offset) del.add(s);
                else keep.add(s);
            }
            if (del.isEmpty()) return 0;
            segments = List.copyOf(keep);
        }
        for (Segment s : del) {
            disk.delete(s.path);
            disk.delete(s.idxPath);
        }
        disk.syncDirectory(dir);
        return del.size();
    }

    /** The next offset this shard assigns. */
    public long nextOffset() {
        lock.lock();
        try {
            return nextOffset;
        } finally {
            lock.unlock();
        }
    }

    /** The lowest offset still on disk (base of the oldest segment). */
    public long firstOffset() {
        List<Segment> l = segments;
        return l.isEmpty() ? nextOffset() : l.get(0).base;
    }

    /** Number of segment files. */
    public int segmentCount() { return segments.size(); }

    /** Bytes of this shard's segment files. */
    public long diskBytes() {
        long sum = 0;
        for (Segment s : segments) {
            try {
                sum += Files.size(s.path);
            } catch (IOException e) {
                // deleted concurrently
            }
        }
        return sum;
    }

    /** True once the shard refuses writes after an I/O failure or failed recovery. */
    public boolean failed() {
        lock.lock();
        try {
            return failure != null;
        } finally {
            lock.unlock();
        }
    }

    /** A snapshot of this shard's figures. */
    public WalStats.ShardStats stats() {
        lock.lock();
        try {
            long now = System.nanoTime();
            double dt = (now - rateLastNanos) / 1e9;
            if (dt >= 0.05) {
                rateRecords = (records - rateLastRecords) / dt;
                rateBytes = (rawBytes - rateLastBytes) / dt;
                rateLastNanos = now;
                rateLastRecords = records;
                rateLastBytes = rawBytes;
            }
            return new WalStats.ShardStats(id, appends, records, rawBytes, storedBytes, blocks,
                    blocks == 0 ? 0 : (double) blockRecords / blocks, maxBlockRecords, lockWaitTotalNanos,
                    lockWaitHist.copy(), ackHist.copy(), fsyncs, fsyncNanosTotal, fsyncHist.copy(),
                    backpressureEvents, rateRecords, rateBytes, replaySeconds, replayRecords, replayBytes,
                    bufferedBytes, nextOffset, failure != null);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() { return "WALShard{" + id + ", dir=" + dir + "}"; }
}
