package io.tsdb.core;

import io.tsdb.core.chunk.Chunk;
import io.tsdb.wal.ShardedWAL;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.roaringbitmap.RoaringBitmap;

/**
 * The head partition of one WAL shard: its series (indexed by local index, {@code ref = local *
 * shardCount + shard}), a hash to series map (collisions chained, labels compared), and postings.
 *
 * <p>Writers hold {@link #lock} for the whole commit of their samples in this shard: validation,
 * WAL append and head apply. This keeps the shard's WAL order identical to the head's apply order,
 * so replay reproduces the head exactly. Replay and checkpoint loading run on one thread per
 * partition before the store is published, without the lock.
 */
final class HeadPartition {
    final int shard;
    final int shardCount;
    /** log2(shardCount) when it is a power of two (refs decode with a shift), else -1. */
    private final int shift;
    /** Taken by this class only: every method that needs it says so, and takes it itself. */
    private final ReentrantLock lock = new ReentrantLock();

    private volatile MemSeries[] series = new MemSeries[64];
    /** Next local index to assign (also 1 + the highest local index ever seen). */
    int nextLocal;

    private final HashMap<Long, MemSeries> byHash = new HashMap<>();
    private final HashMap<String, HashMap<String, RoaringBitmap>> postings = new HashMap<>();
    private final RoaringBitmap all = new RoaringBitmap();
    private final AtomicInteger totalSeries;
    private final int maxSeries;
    private final Runnable onSeriesChange;

    volatile long numSeries;
    volatile long numSamples;
    volatile long numChunks;

    /** Out-of-order window in ms (0 = out-of-order samples are rejected). */
    final long oooWindow;

    private final long[] found = new long[1];

    // ---- commit scratch (guarded by lock)
    private long stamp;
    private int[] vRefs = new int[256];
    private long[] vTs = new long[256];
    private long[] vBits = new long[256];
    private MemSeries[] vSeries = new MemSeries[256];
    private MemSeries[] newSeries = new MemSeries[64];
    private final List<ByteSink> sinkPool = new ArrayList<>();
    private final List<ByteBuffer> records = new ArrayList<>();

    // ---- replay state (single thread)
    private final ByteSource src = new ByteSource();
    private final RecordCodec.SampleBatch batch = new RecordCodec.SampleBatch();
    private byte[] copyBuf = new byte[4096];
    private long replayRecords;
    private long replaySamples;
    long replaySeriesRecords;
    private long replayUnknownRefSamples;
    private long replayCorruptRecords;
    private long replayDuplicateSamples;
    private long replayOutOfOrderSamples;
    /**
     * Logged late samples that replay inserted into older chunks. Such an insert re-encodes a chunk
     * that may already be queued for the head chunk log, so the log written after this replay must
     * be flagged as holding possibly stale chunks, even without an out-of-order window.
     */
    private long replayLateInserts;

    /** What one partition's replay did (figures summed over partitions by {@link #plus}). */
    record ReplayCounts(
            long records,
            long samples,
            long unknownRefSamples,
            long corruptRecords,
            long duplicateSamples,
            long outOfOrderSamples,
            long conflictingSeries,
            String firstProblem,
            long attachedChunks,
            long attachedSamples,
            long coveredSamples,
            long unattachedChunks,
            long newestT) {
        static final ReplayCounts NONE = new ReplayCounts(0, 0, 0, 0, 0, 0, 0, null, 0, 0, 0, 0, Long.MIN_VALUE);

        ReplayCounts plus(ReplayCounts o) {
            return new ReplayCounts(
                    records + o.records,
                    samples + o.samples,
                    unknownRefSamples + o.unknownRefSamples,
                    corruptRecords + o.corruptRecords,
                    duplicateSamples + o.duplicateSamples,
                    outOfOrderSamples + o.outOfOrderSamples,
                    conflictingSeries + o.conflictingSeries,
                    firstProblem != null ? firstProblem : o.firstProblem,
                    attachedChunks + o.attachedChunks,
                    attachedSamples + o.attachedSamples,
                    coveredSamples + o.coveredSamples,
                    unattachedChunks + o.unattachedChunks,
                    Math.max(newestT, o.newestT));
        }
    }

    /** After replay (its threads joined): what it did, and the newest sample time held. */
    ReplayCounts replayCounts() {
        long newest = Long.MIN_VALUE;
        for (MemSeries s : series) {
            if (s != null && s.lastT > newest) {
                newest = s.lastT;
            }
        }
        return new ReplayCounts(
                replayRecords,
                replaySamples,
                replayUnknownRefSamples,
                replayCorruptRecords,
                replayDuplicateSamples,
                replayOutOfOrderSamples,
                replayConflictingSeries,
                firstReplayProblem,
                attachedChunks,
                attachedSamples,
                replayCoveredSamples,
                unattachedChunks,
                newest);
    }

    /** After replay: whether it inserted logged late samples into older chunks. */
    boolean replayInsertedLate() {
        return replayLateInserts > 0;
    }

    private long replayConflictingSeries;
    private String firstReplayProblem;

    HeadPartition(
            int shard,
            int shardCount,
            AtomicInteger totalSeries,
            int maxSeries,
            Runnable onSeriesChange,
            long oooWindow) {
        this.oooWindow = oooWindow;
        this.shard = shard;
        this.shardCount = shardCount;
        this.shift = Integer.bitCount(shardCount) == 1 ? Integer.numberOfTrailingZeros(shardCount) : -1;
        this.totalSeries = totalSeries;
        this.maxSeries = maxSeries;
        this.onSeriesChange = onSeriesChange;
    }

    // ------------------------------------------------------------------ lookups

    /** Lock-free lookup by ref (series may be concurrently removed: check {@code removed}). */
    int localOf(int ref) {
        return shift >= 0 ? ref >>> shift : ref / shardCount;
    }

    MemSeries byRef(int ref) {
        int local = localOf(ref);
        MemSeries[] arr = series;
        return local < arr.length ? arr[local] : null;
    }

    /** Under lock (or single-threaded replay). */
    MemSeries lookup(Labels labels, long hash) {
        for (MemSeries s = byHash.get(hash); s != null; s = s.nextSameHash) {
            if (s.labels.equals(labels)) {
                return s;
            }
        }
        return null;
    }

    /** The series with these labels, created (unlogged) if new; takes {@link #lock}. */
    MemSeries resolve(Labels labels, long hash) {
        lock.lock();
        try {
            return getOrCreate(labels, hash);
        } finally {
            lock.unlock();
        }
    }

    /** The ref of the series with these labels, or -1; takes {@link #lock}. */
    int refOf(Labels labels, long hash) {
        lock.lock();
        try {
            MemSeries s = lookup(labels, hash);
            return s == null ? -1 : s.ref;
        } finally {
            lock.unlock();
        }
    }

    /** Removes a series an appender created but never committed (no samples, never logged); takes {@link #lock}. */
    void removeIfUnused(MemSeries s) {
        lock.lock();
        try {
            if (!s.removed && !s.logged && s.chunks.length == 0) {
                remove(s);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * A checkpoint snapshot at the WAL's next offset, read under {@link #lock} (commits append to
     * the WAL under it, so the offset and the head agree); null when that offset is
     * {@code unchangedAt} (nothing new since the last checkpoint).
     */
    Checkpoints.PartitionSnapshot snapshot(java.util.function.LongSupplier walNextOffset, long unchangedAt) {
        lock.lock();
        try {
            long off = walNextOffset.getAsLong();
            return off == unchangedAt ? null : Checkpoints.snapshot(this, off);
        } finally {
            lock.unlock();
        }
    }

    /** Under lock: the series with these labels, created (unlogged) if new. */
    MemSeries getOrCreate(Labels labels, long hash) {
        MemSeries s = lookup(labels, hash);
        if (s != null) {
            return s;
        }
        if (totalSeries.get() >= maxSeries) {
            throw new LimitExceededException(
                    "maxSeries",
                    "series limit maxSeries=" + maxSeries + " reached; cannot create " + labels.toShortString());
        }
        long ref = (long) nextLocal * shardCount + shard;
        if (ref > Integer.MAX_VALUE) {
            throw new LimitExceededException(
                    "seriesRefs",
                    "series ref space of shard " + shard + " exhausted (refs are ints: at most 2^31 series per store)");
        }
        s = insert((int) ref, labels, hash);
        onSeriesChange.run();
        return s;
    }

    /** Adds a series at a given ref (replay, checkpoint load, creation). */
    MemSeries insert(int ref, Labels labels, long hash) {
        int local = localOf(ref);
        MemSeries s = new MemSeries(ref, shard, labels, hash);
        MemSeries[] arr = series;
        if (local >= arr.length) {
            arr = Arrays.copyOf(arr, Math.max(local + 1, arr.length * 2));
        }
        arr[local] = s;
        series = arr;
        if (local >= nextLocal) {
            nextLocal = local + 1;
        }
        MemSeries head = byHash.get(hash);
        if (head == null) {
            byHash.put(hash, s);
        } else {
            s.nextSameHash = head.nextSameHash;
            head.nextSameHash = s;
        }
        String[] nv = labels.raw();
        for (int i = 0; i < nv.length; i += 2) {
            postings.computeIfAbsent(nv[i], k -> new HashMap<>())
                    .computeIfAbsent(nv[i + 1], k -> new RoaringBitmap())
                    .add(ref);
        }
        all.add(ref);
        totalSeries.incrementAndGet();
        numSeries++;
        return s;
    }

    /** Removes a series from arrays, hash map and postings (retention, replacement). */
    void remove(MemSeries s) {
        s.removed = true;
        int local = localOf(s.ref);
        if (coveredByLocal != null && local < coveredByLocal.length) {
            coveredByLocal[local] = Long.MIN_VALUE;
        }
        MemSeries[] arr = series;
        if (local < arr.length && arr[local] == s) {
            arr[local] = null;
        }
        MemSeries head = byHash.get(s.hash);
        if (head == s) {
            if (s.nextSameHash == null) {
                byHash.remove(s.hash);
            } else {
                byHash.put(s.hash, s.nextSameHash);
            }
        } else {
            for (MemSeries p = head; p != null; p = p.nextSameHash) {
                if (p.nextSameHash == s) {
                    p.nextSameHash = s.nextSameHash;
                    break;
                }
            }
        }
        String[] nv = s.labels.raw();
        for (int i = 0; i < nv.length; i += 2) {
            HashMap<String, RoaringBitmap> values = postings.get(nv[i]);
            if (values != null) {
                RoaringBitmap bm = values.get(nv[i + 1]);
                if (bm != null) {
                    bm.remove(s.ref);
                    if (bm.isEmpty()) {
                        values.remove(nv[i + 1]);
                        if (values.isEmpty()) {
                            postings.remove(nv[i]);
                        }
                    }
                }
            }
        }
        all.remove(s.ref);
        totalSeries.decrementAndGet();
        numSeries--;
        Chunk[] cs = s.chunks;
        numChunks -= cs.length;
        for (Chunk c : cs) {
            numSamples -= c.numSamples();
        }
        onSeriesChange.run();
    }

    /** Every live series (a snapshot of the array; entries may be null). */
    MemSeries[] seriesArray() {
        return series;
    }

    // ------------------------------------------------------------------ commit

    /**
     * Commits the appender's samples {@code order[from..to)} that belong to this partition: checks
     * order against each series, logs new series and the valid samples in one WAL batch, then
     * applies them. Rejections are added to {@code rejections}. Returns the samples written.
     * Takes {@link #lock}, waiting for it.
     */
    int commit(
            Appender a,
            int[] order,
            int from,
            int to,
            ShardedWAL wal,
            List<PartialWriteException.Rejection> rejections,
            boolean retentionOn,
            long retentionFloor)
            throws IOException {
        lock.lock();
        try {
            return commitLocked(a, order, from, to, wal, rejections, retentionOn, retentionFloor);
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@link #commit} if {@link #lock} is free now; returns -1 without waiting when another commit
     * holds it (the committer then serves its other partitions first).
     */
    int tryCommit(
            Appender a,
            int[] order,
            int from,
            int to,
            ShardedWAL wal,
            List<PartialWriteException.Rejection> rejections,
            boolean retentionOn,
            long retentionFloor)
            throws IOException {
        if (!lock.tryLock()) {
            return -1;
        }
        try {
            return commitLocked(a, order, from, to, wal, rejections, retentionOn, retentionFloor);
        } finally {
            lock.unlock();
        }
    }

    /** Called under {@link #lock} when at least {@code sealedBacklog} sealed chunks wait for the chunk writer. */
    private Runnable onSealedBacklog;

    private int sealedBacklog = Integer.MAX_VALUE;

    /** Before the store is shared: {@code wake} runs (under the lock) once a commit leaves {@code threshold} sealed chunks queued. */
    void onSealedBacklog(int threshold, Runnable wake) {
        this.sealedBacklog = threshold;
        this.onSealedBacklog = wake;
    }

    private int commitLocked(
            Appender a,
            int[] order,
            int from,
            int to,
            ShardedWAL wal,
            List<PartialWriteException.Rejection> rejections,
            boolean retentionOn,
            long retentionFloor)
            throws IOException {
        int written = commitUnderLock(a, order, from, to, wal, rejections, retentionOn, retentionFloor);
        if (onSealedBacklog != null && sealN >= sealedBacklog) {
            onSealedBacklog.run();
        }
        return written;
    }

    private int commitUnderLock(
            Appender a,
            int[] order,
            int from,
            int to,
            ShardedWAL wal,
            List<PartialWriteException.Rejection> rejections,
            boolean retentionOn,
            long retentionFloor)
            throws IOException {
        assert lock.isHeldByCurrentThread();
        try {
            long st = ++stamp;
            int n = to - from;
            ensureScratch(n);
            int nv = 0;
            int nNew = 0;
            int accepted = 0;
            long minT = Long.MAX_VALUE;
            long maxT = Long.MIN_VALUE;
            MemSeries[] pSeries = a.pendingSeries();
            long[] pT = a.pendingTimestamps();
            long[] pBits = a.pendingBits();
            for (int k = from; k < to; k++) {
                int i = order[k];
                MemSeries s = pSeries[i];
                if (s.removed) {
                    s = getOrCreate(s.labels, s.hash);
                    pSeries[i] = s;
                }
                if (s.stamp != st) {
                    s.stamp = st;
                    s.pendingT = s.lastT;
                    s.pendingBits = s.lastBits;
                }
                long t = pT[i];
                long bits = pBits[i];
                // a late sample within the out-of-order window is accepted unless a sample exists at t
                boolean late = t < s.pendingT && oooWindow > 0 && Long.compareUnsigned(s.pendingT - t, oooWindow) <= 0;
                if (late) {
                    if (findPending(s, t, nv, found)) {
                        if (found[0] == bits) {
                            accepted++;
                        } else {
                            rejections.add(a.rejection(
                                    i,
                                    new DuplicateSampleException("duplicate sample for " + s.labels.toShortString()
                                            + " at t=" + t + ": stored value " + bitsToString(found[0]) + ", new value "
                                            + bitsToString(bits))));
                        }
                        continue;
                    }
                } else if (t <= s.pendingT) {
                    if (t == s.pendingT) {
                        if (bits == s.pendingBits) {
                            accepted++; // idempotent: same timestamp, same bits
                        } else {
                            rejections.add(a.rejection(
                                    i,
                                    new DuplicateSampleException("duplicate sample for " + s.labels.toShortString()
                                            + " at t=" + t + ": stored value " + bitsToString(s.pendingBits)
                                            + ", new value "
                                            + bitsToString(bits))));
                        }
                    } else {
                        rejections.add(a.rejection(
                                i,
                                new OutOfOrderSampleException("out-of-order sample for " + s.labels.toShortString()
                                        + ": t=" + t + " is older than the newest sample t=" + s.pendingT)));
                    }
                    continue;
                }
                if (retentionOn && t < retentionFloor) {
                    rejections.add(a.rejection(
                            i,
                            new OutOfBoundsException("sample for " + s.labels.toShortString() + " at t=" + t
                                    + " is older than the retention floor t=" + retentionFloor)));
                    continue;
                }
                if (!late) {
                    s.pendingT = t;
                    s.pendingBits = bits;
                }
                if (!s.logged && !s.inSeriesRecord) {
                    s.inSeriesRecord = true;
                    if (nNew == newSeries.length) {
                        newSeries = Arrays.copyOf(newSeries, nNew * 2);
                    }
                    newSeries[nNew++] = s;
                }
                vSeries[nv] = s;
                vRefs[nv] = s.ref;
                vTs[nv] = t;
                vBits[nv] = bits;
                nv++;
                if (t < minT) {
                    minT = t;
                }
                if (t > maxT) {
                    maxT = t;
                }
            }
            if (nv == 0) {
                return accepted;
            }
            return accepted + logAndApply(wal, nv, nNew, minT, maxT);
        } catch (IOException | RuntimeException | Error e) {
            // any failure leaves no series marked as being logged (logAndApply already undid this
            // for a failed WAL append: ShardFailedException and WalBackpressureException are
            // IOExceptions; undoing it twice is harmless)
            for (int j = 0; j < newSeries.length && newSeries[j] != null; j++) {
                newSeries[j].inSeriesRecord = false;
                newSeries[j] = null;
            }
            Arrays.fill(vSeries, null);
            throw e;
        }
    }

    private int logAndApply(ShardedWAL wal, int nv, int nNew, long minT, long maxT) throws IOException {
        {
            records.clear();
            int sinks = 0;
            if (nNew > 0) {
                ByteSink sink = sink(sinks++);
                RecordCodec.beginSeries(sink);
                int inRecord = 0;
                for (int j = 0; j < nNew; j++) {
                    if (sink.size() > RecordCodec.MAX_SERIES_RECORD_BYTES) {
                        RecordCodec.endSeries(sink, inRecord);
                        records.add(sink.toByteBuffer());
                        sink = sink(sinks++);
                        RecordCodec.beginSeries(sink);
                        inRecord = 0;
                    }
                    RecordCodec.addSeries(sink, newSeries[j].ref, newSeries[j].labels);
                    inRecord++;
                }
                RecordCodec.endSeries(sink, inRecord);
                records.add(sink.toByteBuffer());
            }
            for (int off = 0; off < nv; off += RecordCodec.MAX_SAMPLES_PER_RECORD) {
                ByteSink sink = sink(sinks++);
                RecordCodec.encodeSamples(
                        sink, vRefs, vTs, vBits, off, Math.min(nv, off + RecordCodec.MAX_SAMPLES_PER_RECORD));
                records.add(sink.toByteBuffer());
            }
            try {
                wal.appendBatch(shard, records, minT, maxT);
            } catch (IOException e) {
                for (int j = 0; j < nNew; j++) {
                    newSeries[j].inSeriesRecord = false;
                    newSeries[j] = null;
                }
                Arrays.fill(vSeries, 0, nv, null);
                throw e;
            } finally {
                records.clear();
            }
            for (int j = 0; j < nNew; j++) {
                newSeries[j].inSeriesRecord = false;
                newSeries[j].logged = true;
                newSeries[j] = null;
            }
            long cuts = 0;
            for (int j = 0; j < nv; j++) {
                MemSeries ms = vSeries[j];
                if (vTs[j] > ms.lastT) {
                    int cut = ms.append(vTs[j], vBits[j]);
                    if (cut != MemSeries.NO_CUT) {
                        cuts++;
                        if (cut == MemSeries.SEALED && persistSealed) {
                            enqueueSealed(ms);
                        }
                    }
                } else {
                    cuts += ms.insertOutOfOrder(vTs[j], vBits[j]); // validated: within the window, absent
                }
                vSeries[j] = null;
            }
            numSamples += nv;
            numChunks += cuts;
            return nv;
        }
    }

    /** Is there a sample at t in s: among this commit's accepted samples (newest first), then in its chunks? */
    private boolean findPending(MemSeries s, long t, int nv, long[] out) {
        for (int j = nv - 1; j >= 0; j--) {
            if (vSeries[j] == s && vTs[j] == t) {
                out[0] = vBits[j];
                return true;
            }
        }
        return s.find(t, out);
    }

    static String bitsToString(long bits) {
        double d = Double.longBitsToDouble(bits);
        return Double.isNaN(d) ? "NaN(0x" + Long.toHexString(bits) + ")" : Double.toString(d);
    }

    private ByteSink sink(int i) {
        while (sinkPool.size() <= i) {
            sinkPool.add(new ByteSink(4096));
        }
        return sinkPool.get(i);
    }

    private void ensureScratch(int n) {
        if (vRefs.length < n) {
            int cap = Math.max(n, vRefs.length * 2);
            vRefs = new int[cap];
            vTs = new long[cap];
            vBits = new long[cap];
            vSeries = new MemSeries[cap];
        }
    }

    // ------------------------------------------------------------------ replay

    /** Replays one WAL record (single thread per partition, no lock). Never throws on bad data: counts it. */
    void replayRecord(long offset, ByteBuffer rec, java.util.function.ToLongFunction<Labels> hashFn) {
        replayRecords++;
        int len = rec.remaining();
        byte[] arr;
        int off;
        if (rec.hasArray()) {
            arr = rec.array();
            off = rec.arrayOffset() + rec.position();
        } else {
            if (copyBuf.length < len) {
                copyBuf = new byte[Math.max(len, copyBuf.length * 2)];
            }
            rec.duplicate().get(copyBuf, 0, len);
            arr = copyBuf;
            off = 0;
        }
        if (len == 0) {
            replayProblem(offset, "empty record");
            return;
        }
        src.reset(arr, off, len);
        int type = RecordCodec.type(arr[off]);
        try {
            if (type == RecordCodec.TYPE_SERIES) {
                replaySeriesRecords++;
                RecordCodec.decodeSeries(src, (ref, nv) -> replaySeries(offset, ref, nv, hashFn));
            } else if (type == RecordCodec.TYPE_SAMPLES) {
                int n = RecordCodec.decodeSampleKeys(src, batch);
                replaySamples(batch, n);
            } else {
                replayProblem(
                        offset,
                        "unknown record type " + type + " (first byte 0x" + Integer.toHexString(arr[off] & 0xFF) + ")");
            }
        } catch (CorruptRecordException e) {
            replayProblem(offset, e.getMessage());
        }
    }

    /**
     * Ends replay: publishes the open chunks filled with unshared appends (see
     * {@link MemSeries#appendReplay}). Call once the replay thread of this partition finished and
     * before the store is handed out (the caller's join of that thread orders the plain stores).
     */
    void finishReplay() {
        if (pendingAttach != null) {
            for (List<HeadChunkLog.Entry> es : pendingAttach.values()) {
                unattachedChunks += es.size(); // series never declared in the recovered WAL
            }
            pendingAttach = null;
        }
        coveredByLocal = null;
        for (MemSeries s : series) {
            if (s != null) {
                s.publishHead();
            }
        }
    }

    private void replayProblem(long offset, String what) {
        replayCorruptRecords++;
        if (firstReplayProblem == null) {
            firstReplayProblem = "shard " + shard + " offset " + offset + ": " + what;
        }
    }

    private void replaySeries(long offset, int ref, String[] nv, java.util.function.ToLongFunction<Labels> hashFn) {
        if (ref % shardCount != shard) {
            replayConflictingSeries++;
            if (firstReplayProblem == null) {
                firstReplayProblem = "shard " + shard + " offset " + offset + ": series ref " + ref
                        + " belongs to shard " + (ref % shardCount);
            }
            return;
        }
        Labels labels = Labels.ofSortedTrusted(nv);
        MemSeries existing = byRef(ref);
        if (existing != null) {
            if (!existing.labels.equals(labels)) {
                replayConflictingSeries++;
                if (firstReplayProblem == null) {
                    firstReplayProblem = "shard " + shard + " offset " + offset + ": series ref " + ref
                            + " redeclared with other labels " + labels.toShortString();
                }
            }
            existing.logged = true;
            return;
        }
        long hash = hashFn.applyAsLong(labels);
        MemSeries same = lookup(labels, hash);
        if (same != null) {
            // the same labels under an older ref: that series was removed (retention) and re-created.
            remove(same);
        }
        MemSeries s = insert(ref, labels, hash);
        s.logged = true;
        if (pendingAttach != null) {
            List<HeadChunkLog.Entry> es = pendingAttach.remove(ref);
            if (es != null) {
                attachAll(s, es);
            }
        }
    }

    private int[] replayLocals = new int[1024];
    long replayTouch;

    /** {@code b} holds the keys of {@code n} samples; {@link #src} is at their value column. */
    private void replaySamples(RecordCodec.SampleBatch b, int n) {
        long[] cov = coveredByLocal;
        if (cov == null || coveredCheck) {
            RecordCodec.decodeSampleValues(src, b, n);
            applyReplaySamples(b, n);
            return;
        }
        // drop the samples that chunks attached from the head chunk log already hold: a dense
        // array lookup per sample, no series object touched; the value column is decoded only
        // if some sample is left
        int[] refs = b.refs;
        long[] ts = b.ts;
        if (replayKeep.length < n) {
            replayKeep = new int[Math.max(n, replayKeep.length * 2)];
        }
        int[] keep = replayKeep;
        int sh = shard;
        int k = 0;
        for (int i = 0; i < n; i++) {
            int r = refs[i];
            int local = localOf(r);
            if (local < cov.length && r - local * shardCount == sh && ts[i] <= cov[local]) {
                continue;
            }
            keep[k++] = i;
        }
        replayCoveredSamples += n - k;
        if (k == 0) {
            return;
        }
        RecordCodec.decodeSampleValues(src, b, n);
        if (k < n) {
            long[] bits = b.bits;
            for (int j = 0; j < k; j++) {
                int i = keep[j];
                refs[j] = refs[i];
                ts[j] = ts[i];
                bits[j] = bits[i];
            }
        }
        applyReplaySamples(b, k);
    }

    private int[] replayKeep = new int[1024];

    private void applyReplaySamples(RecordCodec.SampleBatch b, int n) {
        int[] refs = b.refs;
        long[] ts = b.ts;
        long[] bits = b.bits;
        MemSeries[] arr = series;
        if (replayLocals.length < n) {
            replayLocals = new int[Math.max(n, replayLocals.length * 2)];
        }
        int[] locals = replayLocals;
        int sh = shard;
        // pass 1: resolve every ref and touch its series and open chunk (independent loads, so the
        // CPU overlaps the cache misses); pass 2 then appends to warm objects.
        long touch = 0;
        for (int i = 0; i < n; i++) {
            int r = refs[i];
            int local = localOf(r);
            int found = -1;
            if (local < arr.length && r - local * shardCount == sh) {
                MemSeries s = arr[local];
                if (s != null) {
                    found = local;
                    touch += s.lastT;
                    Chunk h = s.head;
                    if (h != null) {
                        touch += h.numSamples();
                    }
                }
            }
            locals[i] = found;
        }
        replayTouch += touch; // keeps the touching loads alive
        long applied = 0;
        long cuts = 0;
        long covered = 0;
        for (int i = 0; i < n; i++) {
            int local = locals[i];
            if (local < 0) {
                replayUnknownRefSamples++;
                continue;
            }
            MemSeries s = arr[local];
            long t = ts[i];
            if (t <= s.coveredMaxT && (!coveredCheck || s.find(t, found) && found[0] == bits[i])) {
                covered++; // already in a chunk attached from the head chunk log
                continue;
            }
            if (t > s.lastT) {
                int cut = s.appendReplay(t, bits[i]);
                if (cut != MemSeries.NO_CUT) {
                    cuts++;
                    if (cut == MemSeries.SEALED && persistSealed) {
                        enqueueSealed(s);
                    }
                }
                applied++;
            } else if (t == s.lastT && bits[i] == s.lastBits) {
                replayDuplicateSamples++;
            } else {
                // logged out-of-order samples were accepted by a window when written: the log is the truth
                if (!s.find(t, found)) {
                    cuts += s.insertOutOfOrder(t, bits[i]);
                    applied++;
                    replayLateInserts++;
                } else if (found[0] == bits[i]) {
                    replayDuplicateSamples++;
                } else {
                    replayOutOfOrderSamples++;
                }
            }
        }
        replaySamples += applied;
        replayCoveredSamples += covered;
        numSamples += applied;
        numChunks += cuts;
    }

    // ------------------------------------------------------------------ head chunk log

    /** Queue sealed chunks for the head chunk log (set before the store is shared). */
    boolean persistSealed;
    /** Covered WAL samples are looked up instead of skipped (a log written with an out-of-order window). */
    boolean coveredCheck;
    /** Per local index, the newest timestamp held by attached head-chunk-log chunks (Long.MIN_VALUE: none); replay only. */
    private long[] coveredByLocal;
    /** Entries of the head chunk log whose series a WAL SERIES record has yet to create (replay only). */
    private Map<Integer, List<HeadChunkLog.Entry>> pendingAttach;

    private long replayCoveredSamples;
    private long attachedChunks;
    private long attachedSamples;
    private long unattachedChunks;

    // sealed chunks waiting for the chunk writer, guarded by lock
    private int[] sealRefs = new int[64];
    private long[] sealPrev = new long[64];
    private Chunk[] sealChunks = new Chunk[64];
    private int sealN;

    /** Under lock (or replay): queues the chunk {@code s} just sealed. */
    private void enqueueSealed(MemSeries s) {
        if (sealN == sealRefs.length) {
            int cap = sealN * 2;
            sealRefs = Arrays.copyOf(sealRefs, cap);
            sealPrev = Arrays.copyOf(sealPrev, cap);
            sealChunks = Arrays.copyOf(sealChunks, cap);
        }
        Chunk[] cs = s.chunks;
        sealRefs[sealN] = s.ref;
        sealPrev[sealN] = s.maxTBeforeSealed();
        sealChunks[sealN] = cs[cs.length - 2];
        sealN++;
    }

    /** Sealed chunks taken from the queue by {@link #drainSealed()}. */
    record Sealed(int[] refs, long[] prev, Chunk[] chunks, int n) {}

    /** Takes the queued sealed chunks (null if none), under {@link #lock}. */
    Sealed takeSealed() {
        lock.lock();
        try {
            return drainSealed();
        } finally {
            lock.unlock();
        }
    }

    /** Under lock: takes the queued sealed chunks (null if none). */
    private Sealed drainSealed() {
        if (sealN == 0) {
            return null;
        }
        Sealed out = new Sealed(sealRefs, sealPrev, sealChunks, sealN);
        int cap = Math.max(64, Math.min(sealN, 1 << 16));
        sealRefs = new int[cap];
        sealPrev = new long[cap];
        sealChunks = new Chunk[cap];
        sealN = 0;
        return out;
    }

    /**
     * Open, single thread, after the checkpoint load: attaches the head chunk log's chunks to the
     * series that exist; the rest wait for their series' WAL record ({@link #replaySeries}).
     */
    void attachLoaded(HeadChunkLog.Loaded l) {
        coveredCheck |= l.ooo || oooWindow > 0;
        for (var it = l.byRef.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            MemSeries s = byRef(e.getKey());
            if (s != null) {
                attachAll(s, e.getValue());
                it.remove();
            }
        }
        pendingAttach = l.byRef.isEmpty() ? null : l.byRef;
    }

    private void attachAll(MemSeries s, List<HeadChunkLog.Entry> entries) {
        long[] r = s.attach(entries);
        attachedChunks += r[0];
        unattachedChunks += r[1];
        attachedSamples += r[2];
        numSamples += r[2];
        numChunks += r[3];
        if (r[0] == 0) {
            return;
        }
        int local = localOf(s.ref);
        long[] cov = coveredByLocal;
        if (cov == null || local >= cov.length) {
            int old = cov == null ? 0 : cov.length;
            cov = cov == null
                    ? new long[Math.max(local + 1, series.length)]
                    : Arrays.copyOf(cov, Math.max(local + 1, cov.length * 2));
            Arrays.fill(cov, old, cov.length, Long.MIN_VALUE);
            coveredByLocal = cov;
        }
        cov[local] = s.coveredMaxT;
    }

    // ------------------------------------------------------------------ postings (readers)

    void postingsInto(String name, String value, RoaringBitmap out) {
        lock.lock();
        try {
            HashMap<String, RoaringBitmap> values = postings.get(name);
            if (values != null) {
                RoaringBitmap bm = values.get(value);
                if (bm != null) {
                    out.or(bm);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    void allInto(RoaringBitmap out) {
        lock.lock();
        try {
            out.or(all);
        } finally {
            lock.unlock();
        }
    }

    void labelNamesInto(Collection<String> out) {
        lock.lock();
        try {
            out.addAll(postings.keySet());
        } finally {
            lock.unlock();
        }
    }

    void labelValuesInto(String name, Collection<String> out) {
        lock.lock();
        try {
            Map<String, RoaringBitmap> values = postings.get(name);
            if (values != null) {
                out.addAll(values.keySet());
            }
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ retention

    /** Drops chunks whose maxTime < cutoff and series left without recent samples, under {@link #lock}. Returns series removed. */
    int applyRetention(long cutoff) {
        lock.lock();
        try {
            return applyRetentionLocked(cutoff);
        } finally {
            lock.unlock();
        }
    }

    private int applyRetentionLocked(long cutoff) {
        int removedCount = 0;
        MemSeries[] arr = series;
        for (MemSeries s : arr) {
            if (s == null || s.removed) {
                continue;
            }
            Chunk[] cs = s.chunks;
            if (cs.length == 0) {
                continue; // created, not yet committed
            }
            if (s.lastT < cutoff) {
                remove(s);
                removedCount++;
                continue;
            }
            int k = 0;
            while (k < cs.length - 1 && cs[k].maxTime() < cutoff) {
                k++;
            }
            if (k > 0) {
                long dropped = 0;
                for (int j = 0; j < k; j++) {
                    dropped += cs[j].numSamples();
                }
                s.setChunks(Arrays.copyOfRange(cs, k, cs.length));
                numChunks -= k;
                numSamples -= dropped;
            }
        }
        return removedCount;
    }
}
