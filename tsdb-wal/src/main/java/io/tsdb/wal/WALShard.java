package io.tsdb.wal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.HdrHistogram.Histogram;

/**
 * One shard of a {@link ShardedWAL}: its own lock, batch, segments, index and anchor.
 *
 * <p><b>Write path</b> (group commit, leader/follower): an append encodes its records into the
 * shard's in-RAM batch under the {@link ReentrantLock} (the time spent acquiring it is measured)
 * and gets dense offsets. A writer that must wait for a write (PAGE_CACHE) or an fsync
 * (SYNC_BATCH) becomes the <em>leader</em> when no write-out is in progress: it swaps the batch
 * out under the lock, then, outside the lock, encodes it as one block, writes it, forces the file
 * in SYNC_BATCH, and wakes every writer whose records the block covered. Writers arriving
 * meanwhile fill the next batch. ASYNC appends return at once; a background flusher writes their
 * batch after the flush interval, or the writer that fills the batch to its byte/record limit does.
 *
 * <p><b>Roles.</b> The <em>writer role</em> ({@code flushing == true}, one thread at a time) owns
 * the active segment's write position, writes blocks, forces blocks in SYNC_BATCH and switches
 * segments. The <em>sync role</em> ({@link #syncLock}) forces outside the writer role (sync(),
 * periodic sync, close, the completion of an ASYNC roll) and alone writes the anchor. Lock order:
 * writer role, then syncLock, then a segment's forceLock, then {@link #lock} (held only briefly
 * and never across I/O); no thread waits for the writer role while holding syncLock.
 *
 * <p><b>Failures</b> (docs/durability.md). A failed or short block write is cut off the file and
 * fails only its batch (ASYNC: the acknowledged records stay in RAM and are retried); its offsets
 * become a gap block so offsets stay dense. A full device gives {@link StorageFullException}. A
 * failed fsync is never retried on that file: the segment is sealed at its last synced length
 * (recorded in the anchor) and the shard continues on a new segment; only if that cannot be opened
 * does the shard turn read-only ({@link ShardFailedException}).
 *
 * <p><b>Rolls.</b> SYNC_BATCH and PAGE_CACHE roll inside the write-out: force the old segment,
 * write its index, create the next (create, force, directory fsync), rewrite the anchor. ASYNC
 * rolls without waiting: the writer creates the next file and goes on writing into it; a
 * background task forces and closes the old one, forces the new one and its directory entry,
 * then rewrites the anchor. Recovery knows this window (see {@code ShardRecovery.undoUnfinishedRoll}).
 */
public final class WALShard {
    private static final long HIST_MAX = TimeUnit.HOURS.toNanos(1);
    /**
     * Read window of a replay: 1 MiB keeps the per-shard buffer (and the JDK's temporary direct
     * buffer behind a heap-buffer read) small next to the head being rebuilt; larger blocks still
     * get a window of their own size.
     */
    private static final int REPLAY_WINDOW_BYTES = 1 << 20;
    /** A {@code FileChannel.write} that writes nothing this many times in a row counts as failed. */
    private static final int MAX_ZERO_WRITES = 16;

    /** The outcome of one batch, shared by the writers whose records it holds. Guarded by lock. */
    private static final class Ticket {
        final long seq;
        /** Written (and in SYNC_BATCH forced). */
        boolean done;
        /** Why the batch failed: an IOException (a ShardFailedException when the shard failed), or a WalClosedException. */
        Exception error;

        Ticket(long seq) {
            this.seq = seq;
        }
    }

    /** A batch swapped out by the leader. */
    private static final class Batch {
        byte[] payload;
        int len, count;
        long first, min, max, startNanos;
        Ticket ticket;
    }

    /** What one write-out did: filled outside the lock, published under it. */
    private static final class WriteOut {
        boolean written;
        boolean gapWritten;
        int stored;
        /** The write or fsync failure of this write-out. */
        IOException error;
        /** ASYNC: keep the failed batch in RAM and retry it. */
        boolean retain;
        /** Offsets below this were lost to a failed write or fsync (written as a gap block later). */
        long discardedEnd = -1;
        /** The shard turns read-only. */
        Throwable fatal;
    }

    /** An ASYNC roll in progress: the new segment is written, the old one awaits its final force. */
    private record PendingRoll(Segment old, Segment next) {}

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
    /** ASYNC: segment rolls leave their fsyncs to {@link #background}. */
    private final boolean deferredRoll;
    /** Runs the completion of deferred rolls (the log's sync thread; inline if none). */
    private final Executor background;
    /** Opened read-only ({@link WalOptions#readOnly()}): no file is open for writing, every write call throws. */
    private final boolean readOnly;
    /** Bytes per in-memory index entry of a segment ({@link SegmentIndex#strideFor}). */
    private final int indexStride;

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
    private long batchSeq = 1;
    private Ticket curTicket = new Ticket(1);
    /** The ticket of the batch swapped out last (in flight or finished). */
    private Ticket lastTicket;

    private byte[] spare;
    private long nextOffset;
    private boolean flushing;
    private long bufferedBytes;
    private Throwable failure;
    private boolean closed;
    /** close() wrote out what it could: no more write-outs. */
    private boolean writesClosed;
    /** The failure of the last write-out while writes keep failing; null once one succeeds. */
    private IOException writeError;
    /** Offsets below this were assigned; those above the active segment's end were lost to failed writes. */
    private long discardedEnd;
    /** A failed fsync no caller waited for (roll, background): reported by the next sync() or close(). */
    private IOException unreportedSyncError;
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

    // ---- writer role (flushing == true), handed over through the lock -----------------------
    private final BlockCodec.Encoder encoder = new BlockCodec.Encoder();
    /** The segment written to. Set by the writer role (the sync role reads it). */
    private volatile Segment active;
    /** End of the bytes written to the active segment (published or not). */
    private long activePos;
    /** Set by the writer role (before it publishes the new active segment), cleared by the sync role. */
    private volatile PendingRoll pendingRoll;

    // ---- sync role (syncLock) -----------------------------------------------------------------
    private final ReentrantLock syncLock = new ReentrantLock();
    private long anchorSeq;
    private volatile Anchor lastAnchor;
    /** close() closed the channels. */
    private boolean channelsClosed;
    /** Every record below this offset was fsynced (except in segments sealed after a failed fsync). */
    private final AtomicLong syncedEnd = new AtomicLong();

    // ---- segment list (copy-on-write) -------------------------------------------------------
    private final Object segLock = new Object();
    private volatile List<Segment> segments = List.of();

    private WALShard(int id, Path dir, WalOptions opt, RecoveryReport report, Executor background) {
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
        this.deferredRoll = durability == Durability.ASYNC;
        this.background = background != null ? background : Runnable::run;
        this.readOnly = opt.readOnly();
        this.indexStride = SegmentIndex.strideFor(opt.segmentBytes());
    }

    /** This shard's index. */
    public int id() {
        return id;
    }

    /** This shard's directory. */
    public Path directory() {
        return dir;
    }

    static Path shardDir(Path root, int id) {
        return root.resolve(String.format("shard-%03d", id));
    }

    // =========================================================================================
    // Open (the files are recovered by ShardRecovery)
    // =========================================================================================

    /** A shard whose files could not be read: refuses writes, replays nothing. */
    static WALShard unreadable(int id, Path root, WalOptions opt, RecoveryReport report, Throwable cause) {
        WALShard s = new WALShard(id, shardDir(root, id), opt, report, null);
        s.failure = cause;
        report.add(new RecoveryReport.Event(
                RecoveryReport.Kind.SHARD_UNREADABLE, id, null, -1, -1, -1, 0, String.valueOf(cause)));
        return s;
    }

    /** Opens (recovers) shard {@code id}; {@code background} completes ASYNC rolls (null: inline). */
    static WALShard open(int id, Path root, WalOptions opt, RecoveryReport report, Executor background)
            throws IOException {
        Path dir = shardDir(root, id);
        Files.createDirectories(dir);
        WALShard s = new WALShard(id, dir, opt, report, background);
        s.recover();
        return s;
    }

    /**
     * Opens shard {@code id} read-only: {@link ShardRecovery}'s dry run decides in memory what a
     * recovery would keep; nothing on disk changes and no file stays open. A missing shard
     * directory is an empty shard. {@link #nextOffset()} is the end of what was read.
     */
    static WALShard openReadOnly(int id, Path root, WalOptions opt, RecoveryReport report) throws IOException {
        Path dir = shardDir(root, id);
        WALShard s = new WALShard(id, dir, opt, report, null);
        if (!Files.isDirectory(dir)) return s;
        ShardRecovery.Result r = new ShardRecovery(id, dir, s.disk, s.strict, report, true, s.indexStride).recover();
        List<Segment> segs = r.segments();
        long next;
        if (!segs.isEmpty()) next = segs.get(segs.size() - 1).endOffset;
        else if (r.vanishedEnd() >= 0) next = r.vanishedEnd();
        else next = r.anchor() != null ? r.anchor().committedOffset() : 0;
        s.lock.lock();
        try {
            s.nextOffset = next;
            s.discardedEnd = next;
        } finally {
            s.lock.unlock();
        }
        s.segments = segs;
        s.lastAnchor = r.anchor();
        return s;
    }

    /** Throws if this shard was opened read-only. */
    private void requireWritable(String call) {
        if (readOnly)
            throw new WalReadOnlyException(call + " on shard " + id + " of a WAL opened read-only (" + dir + ")");
    }

    /** True if this shard was opened read-only. */
    public boolean readOnly() {
        return readOnly;
    }

    /**
     * Recovers the shard's files ({@link ShardRecovery}), then resumes writing after the newest
     * segment: creates a first segment if there is none, and a new one after a segment sealed
     * after a failed fsync; opens it, sets the write position and the next offset, and anchors
     * the recovered state unless the anchor already records it.
     */
    private void recover() throws IOException {
        ShardRecovery.Result recovered = new ShardRecovery(id, dir, disk, strict, report, false, indexStride).recover();
        Anchor anchor = recovered.anchor();
        if (anchor != null) anchorSeq = anchor.sequence();
        List<Segment> segs = new ArrayList<>(recovered.segments());
        if (segs.isEmpty()) {
            long base = anchor != null ? anchor.committedOffset() : 0;
            Segment s = new Segment(dir, base, indexStride);
            createSegmentFile(s);
            segs.add(s);
        }
        Segment last = segs.get(segs.size() - 1);
        if (last.sealed()) {
            // a segment whose fsync failed is never written again
            Segment n = new Segment(dir, last.endOffset, indexStride);
            createSegmentFile(n);
            segs.add(n);
            last = n;
        }
        if (last.ch == null)
            last.ch = disk.open(last.path, EnumSet.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
        active = last;
        activePos = last.size;
        nextOffset = last.endOffset;
        discardedEnd = nextOffset;
        segments = List.copyOf(segs);
        List<Anchor.Seal> sealsNow = currentSeals();
        if (anchor == null
                || anchor.segmentBase() != last.base
                || anchor.position() != activePos
                || anchor.committedOffset() != nextOffset
                || !anchor.seals().equals(sealsNow)) {
            // what we recovered may be only in the page cache (kill -9): force it before anchoring it
            last.ch.force(true);
            creditSynced(last, last.size);
            syncedEnd.set(nextOffset);
            syncLock.lock();
            try {
                writeAnchor(last);
            } finally {
                syncLock.unlock();
            }
        } else {
            creditSynced(last, last.size);
            syncedEnd.set(nextOffset);
            lastAnchor = anchor;
        }
    }

    // =========================================================================================
    // Segment files, fsync, anchor
    // =========================================================================================

    /**
     * The new-segment protocol: create, force, directory fsync, all before any block of it can be
     * acknowledged. Leaves the channel open in {@code s.ch}. On failure the file is removed again.
     */
    private void createSegmentFile(Segment s) throws IOException {
        if (Files.exists(s.path) && !listed(s)) disk.delete(s.path); // left by an earlier failed attempt
        FileChannel ch = null;
        boolean ok = false;
        try {
            ch = disk.open(
                    s.path,
                    EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE));
            ch.force(true);
            disk.syncDirectory(dir);
            ok = true;
        } finally {
            if (!ok) {
                if (ch != null) {
                    try {
                        ch.close();
                    } catch (IOException ignored) {
                    }
                }
                try {
                    disk.delete(s.path);
                } catch (IOException ignored) {
                }
            }
        }
        s.size = 0;
        s.endOffset = s.base;
        creditSynced(s, 0);
        s.ch = ch;
    }

    private boolean listed(Segment s) {
        for (Segment x : segments) if (x.base == s.base) return true;
        return false;
    }

    private void addSegment(Segment s) {
        synchronized (segLock) {
            List<Segment> l = new ArrayList<>(segments);
            l.add(s);
            segments = List.copyOf(l);
        }
    }

    private void removeSegment(Segment s) {
        synchronized (segLock) {
            List<Segment> l = new ArrayList<>(segments);
            l.remove(s);
            segments = List.copyOf(l);
        }
    }

    private static void closeQuietly(Segment s) {
        FileChannel c = s.ch;
        s.ch = null;
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
            }
        }
    }

    private static void creditSynced(Segment s, long size) {
        synchronized (s.forceLock) {
            if (size > s.syncedSize) s.syncedSize = size;
        }
    }

    private static long syncedSize(Segment s) {
        synchronized (s.forceLock) {
            return s.syncedSize;
        }
    }

    private static void markForceFailed(Segment s) {
        synchronized (s.forceLock) {
            s.forceFailed = true;
        }
    }

    private void raiseSyncedEnd(long offset) {
        syncedEnd.accumulateAndGet(offset, Math::max);
    }

    /**
     * Forces a segment and credits the size the caller captured before the call (every byte below
     * it was written before). All forces of a segment are serialised, and after a failure the
     * segment is never forced again: a later fsync could "succeed" although the pages whose
     * write-back failed were dropped (fsyncgate). The caller raises the durable mark.
     */
    private void force(Segment s, boolean meta, long creditSize) throws DurabilityException {
        synchronized (s.forceLock) {
            if (s.forceFailed)
                throw new DurabilityException(
                        id, s.name, "an earlier fsync of this segment failed; it is never retried", null);
            FileChannel ch = s.ch;
            if (ch == null) throw new DurabilityException(id, s.name, "the segment is not open", null);
            long t0 = System.nanoTime();
            try {
                ch.force(meta);
            } catch (IOException e) {
                s.forceFailed = true;
                throw new DurabilityException(id, s.name, "fsync failed: " + e, e);
            }
            long ns = System.nanoTime() - t0;
            if (creditSize > s.syncedSize) s.syncedSize = creditSize;
            lock.lock();
            try {
                fsyncs++;
                fsyncNanosTotal += ns;
                fsyncHist.recordValue(Math.min(ns, HIST_MAX));
            } finally {
                lock.unlock();
            }
        }
    }

    /** Seals of the segments sealed after a failed fsync that still exist, in base order. */
    private List<Anchor.Seal> currentSeals() {
        List<Anchor.Seal> l = new ArrayList<>();
        for (Segment s : segments) if (s.sealed()) l.add(new Anchor.Seal(s.base, s.sealSynced, s.sealLength));
        return l;
    }

    /**
     * Sync role (syncLock held): anchors segment {@code s} at its fsynced length, the durable mark
     * and the current seals. Skipped if nothing changed since the last anchor.
     */
    private void writeAnchor(Segment s) throws IOException {
        long pos = syncedSize(s);
        long committed = Math.max(syncedEnd.get(), s.base);
        List<Anchor.Seal> seals = currentSeals();
        Anchor prev = lastAnchor;
        if (prev != null
                && prev.segmentBase() == s.base
                && prev.position() == pos
                && prev.committedOffset() == committed
                && prev.seals().equals(seals)) return;
        Anchor a = new Anchor(anchorSeq + 1, s.base, pos, committed, seals);
        try {
            a.write(disk, dir);
        } catch (IOException e) {
            if (StorageFullException.isNoSpace(e))
                throw new StorageFullException(id, Anchor.TEMP, "rewriting the anchor failed: " + e.getMessage(), e);
            throw new DurabilityException(id, Anchor.FILE, "rewriting the anchor failed: " + e, e);
        }
        anchorSeq++;
        lastAnchor = a;
    }

    /** Writes (and forces) a sealed segment's index; it is a cache, so a failure only removes it. */
    private void writeIndexQuietly(Segment s) {
        try {
            s.index.write(disk, s.idxPath, s.base);
        } catch (IOException e) {
            try {
                disk.delete(s.idxPath);
            } catch (IOException ignored) {
            }
        }
    }

    /** Cuts bytes after the last published block (left if cutting off a failed write failed). */
    private static void trimTail(Segment s) {
        FileChannel ch = s.ch;
        if (ch == null) return;
        try {
            if (ch.size() > s.size) ch.truncate(s.size);
        } catch (IOException ignored) {
            // still only beyond the last block: the newest segment's recovery truncates it as a torn tail
        }
    }

    private void noteUnreported(IOException e) {
        lock.lock();
        try {
            if (unreportedSyncError == null) unreportedSyncError = e;
            else if (unreportedSyncError != e) unreportedSyncError.addSuppressed(e);
        } finally {
            lock.unlock();
        }
    }

    private IOException takeUnreported() {
        lock.lock();
        try {
            IOException e = unreportedSyncError;
            unreportedSyncError = null;
            return e;
        } finally {
            lock.unlock();
        }
    }

    private static IOException first(IOException a, IOException b) {
        if (a == null) return b;
        if (b != null && b != a) a.addSuppressed(b);
        return a;
    }

    // =========================================================================================
    // Appends
    // =========================================================================================

    /** Appends one record; returns its offset once acknowledged per the durability mode. */
    public long append(ByteBuffer record, long attribute) throws IOException {
        Objects.requireNonNull(record, "record");
        requireWritable("append");
        return doAppend(record, null, attribute, attribute);
    }

    /**
     * Appends records contiguously with one acknowledgement; returns the offset of the last one.
     * {@code minAttribute <= maxAttribute} are the batch's attribute bounds.
     */
    public long appendBatch(List<ByteBuffer> records, long minAttribute, long maxAttribute) throws IOException {
        Objects.requireNonNull(records, "records");
        requireWritable("appendBatch");
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
            if (l > maxRecord)
                throw new RecordTooLargeException("record of " + l + " bytes exceeds maxRecordBytes " + maxRecord);
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
                    throw new RecordTooLargeException(
                            "records[" + i + "] of " + l + " bytes exceeds maxRecordBytes " + maxRecord);
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
            if (need > cur.length)
                cur = Arrays.copyOf(cur, Math.max(need, Math.min(cur.length * 2, BlockCodec.MAX_PAYLOAD_BYTES)));
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
            final Ticket ticket = curTicket;
            appends++;
            records += n;
            rawBytes += raw;
            lockWaitTotalNanos += lw;
            lockWaitHist.recordValue(Math.min(lw, HIST_MAX));
            boolean full = curLen >= maxBatchBytes || curCount >= maxBatchRecords;
            switch (durability) {
                case ASYNC -> {
                    // acknowledged now (in RAM); a failed write-out keeps the records and retries them
                    if (full && !flushing) {
                        lead();
                        if (failure != null && !ticket.done)
                            throw new ShardFailedException(
                                    "shard " + id + " failed before these records were written: " + failure, failure);
                    }
                }
                case PAGE_CACHE, SYNC_BATCH -> awaitDone(ticket);
            }
            ackHist.recordValue(Math.min(Math.max(0, System.nanoTime() - t0), HIST_MAX));
            return last;
        } finally {
            lock.unlock();
        }
    }

    private void checkWritable() throws ShardFailedException {
        if (closed) throw new WalClosedException("shard " + id + " is closed");
        if (failure != null)
            throw new ShardFailedException(
                    "shard " + id + " refuses writes after an I/O failure (reopen to recover): " + failure, failure);
    }

    private void waitForSpace(long payload) throws IOException {
        backpressureEvents++;
        long deadline = System.nanoTime() + backpressureNanos;
        while (bufferedBytes + payload > maxBuffered) {
            checkWritable();
            if (!flushing
                    && curCount > 0
                    && (curLen >= maxBatchBytes || curCount >= maxBatchRecords || writeError != null)) {
                IOException e = lead();
                if (e != null && bufferedBytes + payload > maxBuffered) throw bufferFull(payload, e);
                continue;
            }
            if (!flushing && writeError != null) throw bufferFull(payload, writeError);
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

    /** The buffer is full of records whose write-out keeps failing: fail the append at once. */
    private IOException bufferFull(long payload, IOException cause) {
        String m = "append of " + payload + " bytes cannot be buffered: " + bufferedBytes
                + " bytes wait for a write-out that keeps failing";
        if (cause instanceof StorageFullException sf) return new StorageFullException(id, sf.file(), m, cause);
        return new IOException("shard " + id + ": " + m + ": " + cause, cause);
    }

    /** One exception per waiting caller, of the type (and with the message) of the shared failure. */
    private static Exception forCaller(Exception e) {
        if (e instanceof DurabilityException d) return d.copyForCaller();
        if (e instanceof StorageFullException s) return s.copyForCaller();
        if (e instanceof ShardFailedException f) return new ShardFailedException(f.getMessage(), f);
        if (e instanceof WalClosedException c) return new WalClosedException(c.getMessage());
        if (e instanceof IOException io) return new IOException(io.getMessage(), io);
        return e;
    }

    private static void throwForCaller(Exception e) throws IOException {
        Exception c = forCaller(e);
        if (c instanceof IOException io) throw io;
        throw (RuntimeException) c;
    }

    private ShardFailedException shardFailed(String what) {
        return new ShardFailedException("shard " + id + " failed " + what + ": " + failure, failure);
    }

    /** Waits (under the lock) until the batch of {@code t} is written (and fsynced in SYNC_BATCH), leading if no one does. */
    private void awaitDone(Ticket t) throws IOException {
        while (true) {
            if (t.done) return;
            if (t.error != null) throwForCaller(t.error);
            if (failure != null) throw shardFailed("before these records were written");
            if (writesClosed)
                throw new WalClosedException("shard " + id + " was closed before these records were written");
            if (!flushing) {
                lead();
            } else {
                Condition c = batchDone[(int) (t.seq & 1)];
                try {
                    c.await();
                } catch (InterruptedException e) {
                    // we may have been the writer picked to lead the next batch: pass that on
                    c.signal();
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting for shard " + id + " to write");
                }
            }
        }
    }

    // =========================================================================================
    // Write-out (writer role)
    // =========================================================================================

    /**
     * Called with the lock held and no write-out in progress; returns with the lock held. Swaps
     * out the current batch (if any), then outside the lock writes it (after a gap block for
     * offsets lost to earlier failures), forces it in SYNC_BATCH, rolls a full segment; then
     * publishes the outcome. Returns the failure of this write-out, or null.
     */
    private IOException lead() {
        flushing = true;
        Batch b = null;
        if (curCount > 0) b = swapBatch();
        long gapEnd = b != null ? b.first : discardedEnd;
        lock.unlock();
        WriteOut w = new WriteOut();
        try {
            writeOut(b, gapEnd, w);
        } catch (RuntimeException | Error t) {
            w.fatal = t;
        } finally {
            lock.lock();
        }
        flushing = false;
        return finishLead(b, w);
    }

    private Batch swapBatch() {
        Batch b = new Batch();
        b.payload = cur;
        b.len = curLen;
        b.count = curCount;
        b.first = curFirst;
        b.min = curMin;
        b.max = curMax;
        b.startNanos = curStartNanos;
        b.ticket = curTicket;
        cur = spare != null ? spare : new byte[Math.max(64 << 10, Math.min(curLen, maxBatchBytes * 2))];
        spare = null;
        curLen = 0;
        curCount = 0;
        curMin = Long.MAX_VALUE;
        curMax = Long.MIN_VALUE;
        batchSeq++;
        curTicket = new Ticket(batchSeq);
        lastTicket = b.ticket;
        return b;
    }

    private void release(Batch b) {
        bufferedBytes -= b.len;
        if (spare == null && b.payload.length <= Math.max(64 << 10, maxBatchBytes * 2)) spare = b.payload;
    }

    /** ASYNC: a batch whose write failed goes back in front of the current batch (its records are acknowledged). */
    private void mergeBack(Batch b) {
        int n = b.len + curLen;
        byte[] merged = b.payload.length >= n ? b.payload : Arrays.copyOf(b.payload, n);
        System.arraycopy(cur, 0, merged, b.len, curLen);
        if (curCount > 0) {
            // flush() callers waiting for the current batch learn about the failure too
            curTicket.error = b.ticket.error;
            curTicket = new Ticket(batchSeq);
        }
        byte[] old = cur;
        cur = merged;
        curLen = n;
        curCount += b.count;
        curFirst = b.first;
        curMin = Math.min(curMin, b.min);
        curMax = Math.max(curMax, b.max);
        curStartNanos = b.startNanos;
        if (spare == null && old != merged && old.length <= Math.max(64 << 10, maxBatchBytes * 2)) spare = old;
    }

    private IOException finishLead(Batch b, WriteOut w) {
        IOException err = w.error;
        if (w.fatal != null && failure == null) failure = w.fatal;
        if (b != null) {
            if (w.written) {
                b.ticket.done = true;
                blocks++;
                blockRecords += b.count;
                if (b.count > maxBlockRecords) maxBlockRecords = b.count;
                storedBytes += w.stored;
                release(b);
            } else if (w.retain && failure == null) {
                b.ticket.error = err;
                mergeBack(b);
            } else {
                b.ticket.error = err != null ? err : shardFailed("while writing these records");
                release(b);
            }
        }
        if (w.discardedEnd > discardedEnd) discardedEnd = w.discardedEnd;
        if (err != null && !(err instanceof DurabilityException)) writeError = err; // writes keep failing
        else if (w.written || w.gapWritten) writeError = null;
        if (failure != null && curCount > 0) {
            // records of the pending batch will never be written: release their buffer space
            curTicket.error = shardFailed("before these records were written");
            curTicket = new Ticket(batchSeq);
            bufferedBytes -= curLen;
            curLen = 0;
            curCount = 0;
            curMin = Long.MAX_VALUE;
            curMax = Long.MIN_VALUE;
        }
        done.signalAll();
        if (err != null || failure != null) {
            batchDone[0].signalAll();
            batchDone[1].signalAll();
        } else {
            if (b != null) batchDone[(int) (b.ticket.seq & 1)].signalAll();
            // one writer of the pending batch becomes its leader; the others sleep until it is written
            if (curCount > 0) batchDone[(int) (batchSeq & 1)].signal();
        }
        space.signalAll();
        if (err == null && w.fatal != null) err = new IOException("shard " + id + " failed: " + w.fatal, w.fatal);
        return err;
    }

    /** Writer role, no lock held: the I/O of one write-out. */
    private void writeOut(Batch b, long gapEnd, WriteOut w) {
        Segment s = active;
        if (s.forceFailed || s.ch == null || !s.ch.isOpen()) {
            // a sync found this segment's fsync failed (or its channel was closed): never write to it again
            Throwable fatal = switchAfterFsyncFailure(s, s.size);
            if (fatal != null) {
                w.fatal = fatal;
                return;
            }
            s = active;
        }
        if (gapEnd > s.endOffset) {
            try {
                writeGap(s, s.endOffset, gapEnd);
                w.gapWritten = true;
            } catch (IOException e) {
                w.error = writeFailure(s, e);
                failWrite(s, b, w);
                return;
            }
        }
        if (b == null) return;
        long pos = activePos;
        int len;
        try {
            len = writeBlock(s, b, pos);
        } catch (IOException e) {
            w.error = writeFailure(s, e);
            failWrite(s, b, w);
            return;
        }
        activePos = pos + len;
        w.stored = len;
        if (durability == Durability.SYNC_BATCH) {
            try {
                force(s, false, activePos);
                raiseSyncedEnd(b.first + b.count);
            } catch (DurabilityException e) {
                // the batch fails; the segment is sealed before its block, the shard goes on in a new segment
                w.error = e;
                w.discardedEnd = b.first + b.count;
                w.fatal = switchAfterFsyncFailure(s, s.size);
                return;
            }
        }
        s.index.add(b.first, pos, len, b.count, b.min, b.max);
        s.size = pos + len;
        s.endOffset = b.first + b.count;
        w.written = true;
        if (activePos >= opt.segmentBytes()) w.fatal = roll(s);
    }

    /** A gap block (or blocks) for the offsets [first, end) lost to failed writes; published at once. */
    private void writeGap(Segment s, long first, long end) throws IOException {
        while (first < end) {
            int n = (int) Math.min(end - first, Integer.MAX_VALUE);
            long pos = activePos;
            int len = encoder.encodeGap(first, syncedEnd.get(), n);
            writeFully(s, encoder.outBuffer(len), pos);
            activePos = pos + len;
            s.index.add(first, pos, len, n, 0, 0);
            s.size = activePos;
            s.endOffset = first + n;
            first += n;
        }
    }

    /** Encodes and writes one block at {@code pos}; returns its length. Not published yet. */
    private int writeBlock(Segment s, Batch b, long pos) throws IOException {
        int blockLen =
                encoder.encode(b.payload, b.len, b.first, syncedEnd.get(), b.count, b.min, b.max, opt.compression());
        writeFully(s, encoder.outBuffer(blockLen), pos);
        encoder.trim(4 * maxBatchBytes);
        return blockLen;
    }

    /** Writes all of {@code bb} at {@code pos}, looping over short writes. */
    private static void writeFully(Segment s, ByteBuffer bb, long pos) throws IOException {
        FileChannel ch = s.ch;
        int zeros = 0;
        while (bb.hasRemaining()) {
            int w = ch.write(bb, pos + bb.position());
            if (w > 0) {
                zeros = 0;
            } else if (++zeros >= MAX_ZERO_WRITES) {
                throw new IOException("write made no progress (" + zeros + " calls returned " + w + ") at position "
                        + (pos + bb.position()) + " of " + s.path);
            }
        }
    }

    private IOException writeFailure(Segment s, IOException e) {
        if (StorageFullException.isNoSpace(e))
            return new StorageFullException(
                    id, s.name, "writing a block at position " + activePos + " failed: " + e.getMessage(), e);
        return new IOException(
                "shard " + id + " segment " + s.name + ": writing a block at position " + activePos + " failed: " + e,
                e);
    }

    /**
     * After a failed write: cuts off whatever part of the frame reached the file (it would fail its
     * CRC anyway; if the cut fails the next block overwrites it and roll/close cut the rest), then
     * ASYNC keeps the batch for a retry, the other modes drop it (its offsets become a gap).
     */
    private void failWrite(Segment s, Batch b, WriteOut w) {
        FileChannel ch = s.ch;
        if (ch == null || !ch.isOpen()) {
            markForceFailed(s); // e.g. closed by an interrupt: continue in a new segment
        } else {
            try {
                if (ch.size() > activePos) ch.truncate(activePos);
            } catch (IOException e) {
                w.error.addSuppressed(e);
            }
        }
        if (b == null) return;
        if (durability == Durability.ASYNC) w.retain = true;
        else w.discardedEnd = b.first + b.count;
    }

    /**
     * Writer role: segment {@code a}'s fsync failed. Seals it at {@code sealLength} (the published
     * blocks; its synced length is what the last successful force covered), then opens a new
     * segment (create, force, directory fsync) and records the seal in the anchor before anything
     * is written there. Returns the failure that makes the shard read-only if that fails, else null.
     */
    private Throwable switchAfterFsyncFailure(Segment a, long sealLength) {
        markForceFailed(a);
        // a segment without a published block holds nothing: it is replaced (same base), not sealed
        boolean replace = a.endOffset == a.base;
        if (!replace) {
            a.seal(syncedSize(a), sealLength);
            // cut the failed block off now (best effort, not durable: the seal in the anchor is what counts)
            FileChannel c = a.ch;
            try {
                if (c != null && c.isOpen() && c.size() > sealLength) c.truncate(sealLength);
            } catch (IOException ignored) {
                // recovery cuts it at the sealed length
            }
        }
        Segment b = new Segment(dir, a.endOffset, indexStride);
        syncLock.lock();
        try {
            IOException older = finishPendingRoll();
            if (older != null) noteUnreported(older);
            if (replace) {
                closeQuietly(a);
                removeSegment(a);
                disk.delete(a.path);
                disk.delete(a.idxPath);
            }
            createSegmentFile(b);
            addSegment(b);
            active = b;
            activePos = 0;
            closeQuietly(a);
            writeAnchor(b);
            return null;
        } catch (IOException | RuntimeException e) {
            if (!replace) {
                try {
                    writeAnchor(active); // record the seal if at all possible: recovery then excludes the failed block
                } catch (IOException | RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            return new ShardFailedException(
                    "shard " + id + ": the fsync of " + a.name + " failed and a new segment " + b.name
                            + " could not be opened (" + e + "); the shard refuses writes until it is reopened",
                    e);
        } finally {
            syncLock.unlock();
        }
    }

    /**
     * Writer role, after a block made the active segment full. SYNC_BATCH and PAGE_CACHE: force
     * it, write its index, create the next segment, anchor. ASYNC: see {@link #deferRoll}. A
     * failure to create the next segment (e.g. a full disk) is not an error of any write: the
     * shard stays on the old segment and tries again after the next block. Returns a failure that
     * makes the shard read-only, or null.
     */
    private Throwable roll(Segment a) {
        if (deferredRoll) {
            deferRoll(a);
            return null;
        }
        trimTail(a);
        try {
            force(a, true, a.size);
        } catch (DurabilityException e) {
            // no batch waited for this fsync; unsynced acknowledged (PAGE_CACHE) blocks are at risk: report it
            if (syncedSize(a) < a.size) noteUnreported(e);
            return switchAfterFsyncFailure(a, a.size);
        }
        raiseSyncedEnd(a.endOffset);
        writeIndexQuietly(a);
        Segment b = new Segment(dir, a.endOffset, indexStride);
        try {
            createSegmentFile(b);
        } catch (IOException e) {
            return null;
        }
        syncLock.lock();
        try {
            addSegment(b);
            active = b;
            activePos = 0;
            closeQuietly(a);
            try {
                writeAnchor(b);
            } catch (IOException e) {
                // a hint only: the blocks of b carry a's fsync in their synced offset
            }
        } finally {
            syncLock.unlock();
        }
        return null;
    }

    /**
     * ASYNC roll: creates the next file (no fsync) and writes into it from now on; the background
     * task {@link #finishPendingRoll} forces and closes the old segment, writes its index, forces
     * the new one and its directory entry and rewrites the anchor. ASYNC acknowledges at enqueue,
     * so nothing waits for those fsyncs, and the write-out (and with it the kill -9 loss window)
     * never does. While a roll is being finished, the next one waits (the segment grows).
     */
    private void deferRoll(Segment a) {
        if (pendingRoll != null) return;
        trimTail(a);
        Segment b = new Segment(dir, a.endOffset, indexStride);
        try {
            if (Files.exists(b.path) && !listed(b)) disk.delete(b.path);
            b.ch = disk.open(
                    b.path,
                    EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE));
        } catch (IOException e) {
            return; // e.g. a full disk: stay on a, try again after the next block
        }
        addSegment(b);
        pendingRoll = new PendingRoll(a, b); // before active: a sync role that sees b also sees the roll
        active = b;
        activePos = 0;
        try {
            background.execute(this::finishPendingRollInBackground);
        } catch (RejectedExecutionException e) {
            // the log is closing: close() finishes the roll
        }
    }

    private void finishPendingRollInBackground() {
        IOException e;
        syncLock.lock();
        try {
            if (channelsClosed) return;
            e = finishPendingRoll();
        } finally {
            syncLock.unlock();
        }
        if (e != null) noteUnreported(e);
    }

    /**
     * Sync role (syncLock held): completes a deferred roll. Forces the old segment (on failure it
     * is sealed: its blocks after the synced length are not durable), writes its index, closes it;
     * forces the new segment and its directory entry (on failure the next write-out moves to yet
     * another segment); rewrites the anchor (which must record a seal: else the shard turns
     * read-only). Returns a failure no caller has seen yet, or null.
     */
    private IOException finishPendingRoll() {
        PendingRoll r = pendingRoll;
        if (r == null) return null;
        Segment a = r.old(), b = r.next();
        IOException err = null;
        try {
            force(a, true, a.size);
            raiseSyncedEnd(a.endOffset);
            writeIndexQuietly(a);
        } catch (DurabilityException e) {
            a.seal(syncedSize(a), a.size);
            err = e;
        }
        closeQuietly(a);
        long bOff = b.endOffset, bSize = b.size;
        try {
            force(b, true, bSize);
            disk.syncDirectory(dir);
            if (!a.sealed()) raiseSyncedEnd(bOff);
        } catch (DurabilityException e) {
            err = first(err, e);
        } catch (IOException e) {
            markForceFailed(b); // its directory entry may not survive a power loss: move on from it
            err = first(
                    err,
                    new DurabilityException(id, b.name, "directory fsync after creating the segment failed: " + e, e));
        }
        try {
            writeAnchor(active);
        } catch (IOException e) {
            // the anchor is a hint (a lagging one is safe) unless it must record the seal of a
            if (a.sealed()) {
                lock.lock();
                try {
                    if (failure == null)
                        failure = new ShardFailedException(
                                "shard " + id + ": the fsync of " + a.name
                                        + " failed and its seal could not be recorded in the anchor (" + e + ")",
                                e);
                    done.signalAll();
                    batchDone[0].signalAll();
                    batchDone[1].signalAll();
                    space.signalAll();
                } finally {
                    lock.unlock();
                }
                err = first(err, e);
            }
        }
        pendingRoll = null;
        return err;
    }

    // =========================================================================================
    // Flush, sync, close, background work
    // =========================================================================================

    /** Writes out the pending batch and waits for it (and its fsync in SYNC_BATCH). */
    public void flush() throws IOException {
        requireWritable("flush");
        lock.lock();
        try {
            if (closed) return;
            Ticket t = curCount > 0 ? curTicket : lastTicket;
            // a batch that failed earlier was reported to its own callers
            if (t == null || t.done || (t.error != null && t != curTicket)) return;
            awaitDone(t);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Writes out the pending batch, fsyncs and updates the anchor. Only the write-out holds the
     * writer role; the fsync and the anchor run in the sync role, so appends and the background
     * write-out go on meanwhile. Throws {@link DurabilityException} if an fsync failed (also one
     * of a background roll or periodic sync since the last call), {@link StorageFullException}
     * if the device is full.
     */
    public void sync() throws IOException {
        requireWritable("sync");
        lock.lock();
        try {
            if (closed) return;
            if (failure != null) throw new IOException("shard " + id + " failed: " + failure, failure);
            Ticket t = curCount > 0 ? curTicket : lastTicket;
            if (t != null && !t.done && (t.error == null || t == curTicket)) awaitDone(t);
            // offsets lost to failed writes must be accounted for on disk before they are anchored
            while (active != null && discardedEnd > active.endOffset) {
                if (failure != null) throw new IOException("shard " + id + " failed: " + failure, failure);
                if (writesClosed) return;
                if (flushing) {
                    done.awaitUninterruptibly();
                    continue;
                }
                IOException e = lead();
                if (e != null) throwForCaller(e);
            }
        } finally {
            lock.unlock();
        }
        syncDurable();
    }

    /** Sync role: completes a pending roll, forces the active segment, rewrites the anchor. */
    private void syncDurable() throws IOException {
        IOException err;
        Segment s;
        syncLock.lock();
        try {
            if (channelsClosed) return;
            s = active; // read before the pending roll: a roll set after this read leaves s open (see deferRoll)
            err = finishPendingRoll();
            if (s != null && s.ch == null) s = active; // s was the old segment of the roll just finished
            if (s != null) {
                long off = s.endOffset, size = s.size;
                try {
                    force(s, true, size);
                    raiseSyncedEnd(off);
                    writeAnchor(s);
                } catch (IOException e) {
                    err = first(err, e);
                }
            }
            err = first(err, takeUnreported());
        } finally {
            syncLock.unlock();
        }
        if (s != null && s.forceFailed) switchIfStillActive(s);
        if (err != null) throw err;
    }

    /** After a sync role found {@code s}'s fsync failed: moves the shard to a new segment now. */
    private void switchIfStillActive(Segment s) {
        lock.lock();
        try {
            while (flushing) done.awaitUninterruptibly();
            if (closed || failure != null || active != s) return;
            flushing = true;
        } finally {
            lock.unlock();
        }
        Throwable fatal;
        try {
            fatal = switchAfterFsyncFailure(s, s.size);
        } catch (RuntimeException | Error t) {
            fatal = t;
        }
        lock.lock();
        try {
            flushing = false;
            if (fatal != null && failure == null) failure = fatal;
            done.signalAll();
            batchDone[0].signalAll();
            batchDone[1].signalAll();
            space.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Background flusher tick: writes a batch older than {@code intervalNanos}; never blocks on I/O of others. */
    void tick(long now, long intervalNanos) {
        if (!lock.tryLock()) return;
        try {
            if (closed || failure != null || flushing) return;
            if (curCount > 0 && now - curStartNanos >= intervalNanos) lead();
        } finally {
            lock.unlock();
        }
    }

    /** Periodic sync (on the log's sync thread): {@link #sync()} if anything is not yet fsynced and anchored. */
    void periodicSync() {
        lock.lock();
        try {
            if (closed || failure != null) return;
            Segment s = active;
            Anchor a = lastAnchor;
            long synced = syncedEnd.get();
            boolean need = curCount > 0
                    || pendingRoll != null
                    || discardedEnd > s.endOffset
                    || synced < s.endOffset
                    || a == null
                    || a.segmentBase() != s.base
                    || a.committedOffset() < synced;
            if (!need) return;
        } finally {
            lock.unlock();
        }
        try {
            sync();
        } catch (DurabilityException e) {
            // a segment's fsync failed: acknowledged records may not be durable; the next sync() or close() says so
            if (e.segment().endsWith(".log")) noteUnreported(e);
        } catch (IOException | RuntimeException e) {
            // a full disk (retried by the next sync), a failed or closing shard: the writes see it themselves
        }
    }

    /** Flushes, fsyncs, writes index and anchor, closes files. Idempotent. */
    void close() throws IOException {
        IOException err = null;
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            if (readOnly) return; // nothing buffered, no file open for writing: nothing to write
            space.signalAll();
            while (flushing) done.awaitUninterruptibly();
            if (failure == null && active != null) {
                // one attempt (a second one for an ASYNC batch merged back after a failed write)
                for (int i = 0; i < 2 && failure == null && (curCount > 0 || discardedEnd > active.endOffset); i++) {
                    IOException e = lead();
                    if (e != null) {
                        err = e;
                        if (!(durability == Durability.ASYNC && i == 0)) break;
                    }
                }
            }
            writesClosed = true;
            if (curCount > 0) {
                curTicket.error =
                        new IOException("shard " + id + " was closed before these records could be written", err);
                bufferedBytes -= curLen;
                curLen = 0;
                curCount = 0;
            }
            done.signalAll();
            batchDone[0].signalAll();
            batchDone[1].signalAll();
            space.signalAll();
        } finally {
            lock.unlock();
        }
        syncLock.lock();
        try {
            err = first(err, finishPendingRoll());
            Segment s = active;
            if (s != null && s.ch != null) {
                if (failure == null) {
                    trimTail(s);
                    try {
                        long off = s.endOffset, size = s.size;
                        force(s, true, size);
                        raiseSyncedEnd(off);
                        writeIndexQuietly(s);
                        writeAnchor(s);
                    } catch (IOException e) {
                        err = first(err, e);
                    }
                    // indexes lost to failed writes (a full disk during a roll): they are caches, rebuilt here
                    for (Segment x : segments) {
                        if (x != s && !x.sealed() && !Files.exists(x.idxPath)) writeIndexQuietly(x);
                    }
                }
                closeQuietly(s);
            }
            channelsClosed = true;
            err = first(err, takeUnreported());
        } finally {
            syncLock.unlock();
        }
        if (err != null) throw err;
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

        ReplayCounter(RecordHandler h) {
            handler = h;
        }

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
            // records below floor are not handed out: those before from, and (whatever an index says) any
            // offset already handed out, so offsets stay strictly increasing
            long floor = from;
            for (int si = 0; si < use.size(); si++) {
                Segment s = use.get(si);
                // the published extent, read before the index (see Segment, SegmentIndex): every entry
                // this reader uses lies in it; the last entry's length and count may still grow, so its
                // run is walked up to the published size
                long endOffset = s.endOffset;
                long published = s.size;
                int n = s.index.size();
                SegmentIndex.Entries e = s.index.entries();
                while (n > 0 && e.pos[n - 1] >= published) n--;
                if (n == 0) continue;
                FileWindow w = new FileWindow(chans.get(si), published, REPLAY_WINDOW_BYTES, buf);
                for (int i = SegmentIndex.search(e, n, floor); i < n; i++) {
                    boolean open = i == n - 1;
                    long pos = e.pos[i], expected = e.first[i];
                    long runEnd = open ? published : Math.min(published, e.pos[i] + e.len[i]);
                    long runEndOffset = open ? endOffset : e.first[i] + e.count[i];
                    while (pos < runEnd) {
                        try {
                            // walk the run's headers: blocks wholly below floor are skipped unread
                            String why = runEnd - pos < BlockCodec.HEADER_BYTES
                                    ? "truncated header (" + (runEnd - pos) + " bytes)"
                                    : dec.parseHeader(w.buf, w.ensure(pos, BlockCodec.HEADER_BYTES), runEnd - pos, h);
                            if (why == null && h.firstOffset != expected)
                                why = "block first offset " + h.firstOffset + ", expected " + expected + " (index)";
                            if (why != null) throw new CorruptBlockException(why);
                            int len = h.blockLength();
                            long blockEnd = h.firstOffset + h.recordCount;
                            if (blockEnd > floor) {
                                dec.decode(w.buf, w.ensure(pos, len), h, floor, counter);
                                blocksRead++;
                                floor = blockEnd;
                            }
                            pos += len;
                            expected = blockEnd;
                        } catch (CorruptBlockException | EOFException ex) {
                            // the next valid block of the run (full check, CRC included); the records
                            // in between are lost, reported unless they all lie below floor
                            BlockCodec.Header h2 = new BlockCodec.Header();
                            long q;
                            try {
                                q = ShardRecovery.resync(w, dec, h2, pos + 1, runEnd, expected);
                            } catch (EOFException eof) {
                                q = -1; // the file is shorter than published (cut under a read-only reader): the
                                // run ends here
                            }
                            // the end of the lost offsets: the next block's first, the run's end, or (the
                            // open run's end not yet published) unknown
                            long lostEnd = q >= 0 ? h2.firstOffset : runEndOffset > expected ? runEndOffset : -1;
                            if (lostEnd < 0 || lostEnd > floor) {
                                if (strict) throw new WalCorruptionException(id, s.name, pos, ex.getMessage());
                                report.add(new RecoveryReport.Event(
                                        RecoveryReport.Kind.CORRUPT_BLOCK_SKIPPED,
                                        id,
                                        s.name,
                                        pos,
                                        expected,
                                        lostEnd < 0 ? -1 : lostEnd - expected,
                                        (q >= 0 ? q : runEnd) - pos,
                                        "found during replay: " + ex.getMessage()));
                            }
                            if (q < 0) break;
                            pos = q;
                            expected = h2.firstOffset;
                        } catch (HandlerFailure hf) {
                            throw new IOException(
                                    "replay handler of shard " + id + " failed at offset " + hf.offset + ": "
                                            + hf.getCause(),
                                    hf.getCause());
                        } catch (IOException ex) {
                            throw ex;
                        } catch (Exception ex) {
                            throw new IOException(
                                    "replay of shard " + id + " failed at " + s.name + " position " + pos, ex);
                        }
                    }
                }
                buf = w.buf;
            }
        } finally {
            for (FileChannel c : chans) {
                try {
                    c.close();
                } catch (IOException ignored) {
                }
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        replaySeconds = secs;
        replayRecords = counter.records;
        replayBytes = counter.bytes;
        return new ReplayResult(counter.records, counter.bytes, blocksRead, secs);
    }

    /**
     * Deletes whole segments whose records are all below {@code offset}; never the active one (nor
     * one whose ASYNC roll is still being finished: that is finished first). Returns how many.
     */
    public int truncateBefore(long offset) throws IOException {
        requireWritable("truncateBefore");
        List<Segment> del = new ArrayList<>();
        syncLock.lock();
        try {
            IOException e = finishPendingRoll();
            if (e != null) noteUnreported(e);
            synchronized (segLock) {
                List<Segment> l = segments;
                List<Segment> keep = new ArrayList<>();
                for (int i = 0; i < l.size(); i++) {
                    Segment s = l.get(i);
                    boolean last = i == l.size() - 1;
                    if (!last && s.ch == null && l.get(i + 1).base <= offset) del.add(s);
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
        } finally {
            syncLock.unlock();
        }
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
    public int segmentCount() {
        return segments.size();
    }

    /** The segments, oldest first (tests: their indexes). */
    List<Segment> segments() {
        return segments;
    }

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
            return new WalStats.ShardStats(
                    id,
                    appends,
                    records,
                    rawBytes,
                    storedBytes,
                    blocks,
                    blocks == 0 ? 0 : (double) blockRecords / blocks,
                    maxBlockRecords,
                    lockWaitTotalNanos,
                    lockWaitHist.copy(),
                    ackHist.copy(),
                    fsyncs,
                    fsyncNanosTotal,
                    fsyncHist.copy(),
                    backpressureEvents,
                    rateRecords,
                    rateBytes,
                    replaySeconds,
                    replayRecords,
                    replayBytes,
                    bufferedBytes,
                    nextOffset,
                    failure != null);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "WALShard{" + id + ", dir=" + dir + "}";
    }
}
