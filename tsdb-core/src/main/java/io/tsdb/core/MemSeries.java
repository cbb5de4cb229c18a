package io.tsdb.core;

import io.tsdb.core.chunk.Chunk;
import java.util.Arrays;

/**
 * One series in the head. Mutable fields are written only under its partition's lock (or by the
 * single replay thread of its partition). Readers take {@link #chunks} (a volatile, copy-on-write
 * array whose last element is the open chunk) and iterate it without locks: sealed chunks never
 * change, and the open chunk's iterator is safe with one concurrent appender.
 */
final class MemSeries {
    static final Chunk[] NO_CHUNKS = new Chunk[0];

    final int ref;
    /** The partition (= WAL shard) index: ref % shardCount. */
    final int part;

    final Labels labels;
    final long hash;
    /** The open chunk (last element of {@link #chunks}); writer-side shortcut, never read by readers. */
    Chunk head;

    /** Sealed chunks followed by the open chunk (if any). Copy-on-write. */
    volatile Chunk[] chunks = NO_CHUNKS;
    /** Timestamp of the newest sample; Long.MIN_VALUE when none (that timestamp is never accepted). */
    long lastT = Long.MIN_VALUE;

    long lastBits;
    /** A SERIES record for this series is in the WAL (or it was loaded from a checkpoint/replay). */
    boolean logged;

    volatile boolean removed;

    // commit-scoped scratch state, guarded by the partition lock
    long stamp;
    long pendingT;
    long pendingBits;
    boolean inSeriesRecord;

    /** Next series with the same hash (collision chain). */
    MemSeries nextSameHash;

    MemSeries(int ref, int part, Labels labels, long hash) {
        this.ref = ref;
        this.part = part;
        this.labels = labels;
        this.hash = hash;
    }

    /** {@link #append} result: the sample went into the open chunk. */
    static final int NO_CUT = 0;
    /** {@link #append} result: a first chunk was started (nothing was sealed). */
    static final int NEW_CHUNK = 1;
    /** {@link #append} result: the open chunk was sealed (now {@code chunks[length - 2]}) and a new one started. */
    static final int SEALED = 2;

    /**
     * Newest timestamp held by chunks attached from the head chunk log on open: WAL samples at or
     * before it are already in the head ({@link HeadChunkLog}). Long.MIN_VALUE when none.
     */
    long coveredMaxT = Long.MIN_VALUE;

    /** Appends a validated sample (t > lastT). Returns {@link #NO_CUT}, {@link #NEW_CHUNK} or {@link #SEALED}. */
    int append(long t, long bits) {
        double v = Double.longBitsToDouble(bits);
        Chunk h = head;
        int cut = NO_CUT;
        if (h == null || !h.append(t, v)) {
            cutChunk(h, t, v);
            cut = h == null ? NEW_CHUNK : SEALED;
        }
        lastT = t;
        lastBits = bits;
        return cut;
    }

    /**
     * {@link #append} during single-threaded WAL replay, before the store is handed out: the open
     * chunk is filled with {@link Chunk#appendUnshared} (no per-sample publication); sealed chunks
     * are published by {@link Chunk#seal()}, the open one by {@link #publishHead()} after replay.
     */
    int appendReplay(long t, long bits) {
        double v = Double.longBitsToDouble(bits);
        Chunk h = head;
        int cut = NO_CUT;
        if (h == null || !h.appendUnshared(t, v)) {
            cutChunkUnshared(h, t, v);
            cut = h == null ? NEW_CHUNK : SEALED;
        }
        lastT = t;
        lastBits = bits;
        return cut;
    }

    /** Publishes the open chunk's unshared appends (end of replay; before the writer reads its chunks). */
    void publishHead() {
        Chunk h = head;
        if (h != null) {
            h.publish();
        }
    }

    /** Capacity hint for the chunk after {@code old}: the previous chunk's payload size (same series, similar data). */
    private static int nextChunkHint(Chunk old) {
        return old == null ? 0 : old.sizeBytes();
    }

    private void cutChunkUnshared(Chunk old, long t, double v) {
        if (old != null) {
            old.seal();
        }
        Chunk c = Chunk.create(nextChunkHint(old));
        if (!c.appendUnshared(t, v)) {
            throw new IllegalStateException("a new chunk refused its first sample");
        }
        addChunk(c);
    }

    private void cutChunk(Chunk old, long t, double v) {
        if (old != null) {
            old.seal();
        }
        Chunk c = Chunk.create(nextChunkHint(old));
        if (!c.append(t, v)) {
            throw new IllegalStateException("a new chunk refused its first sample");
        }
        addChunk(c);
    }

    private void addChunk(Chunk c) {
        Chunk[] cs = chunks;
        Chunk[] next = Arrays.copyOf(cs, cs.length + 1);
        next[cs.length] = c;
        head = c;
        chunks = next;
    }

    /** Newest timestamp of the chunk before the one just sealed ({@link #SEALED}), or Long.MIN_VALUE. */
    long maxTBeforeSealed() {
        Chunk[] cs = chunks;
        return cs.length >= 3 ? cs[cs.length - 3].maxTime() : Long.MIN_VALUE;
    }

    /**
     * Attaches sealed chunks from the head chunk log (open, before the store is shared), in seal
     * order, each only if it continues this series: its predecessor ended at its {@code prevMaxT}
     * and it starts after the newest chunk, or it is a fuller version of the open chunk a
     * checkpoint held. The chunk array is built once. Returns {attached, not attached, change in
     * samples, change in chunks}; the samples of chunks not attached come from the WAL.
     */
    long[] attach(java.util.List<HeadChunkLog.Entry> entries) {
        Chunk[] cs = chunks;
        int n = cs.length;
        Chunk[] work = Arrays.copyOf(cs, n + entries.size());
        long attached = 0;
        long refused = 0;
        long samples = 0;
        for (HeadChunkLog.Entry e : entries) {
            Chunk c = e.chunk();
            long lastMax = n == 0 ? Long.MIN_VALUE : work[n - 1].maxTime();
            if (e.prevMaxT() == lastMax && c.minTime() > lastMax) {
                if (n > 0) {
                    work[n - 1].seal();
                }
                work[n++] = c;
                samples += c.numSamples();
            } else if (n > 0
                    && c.minTime() == work[n - 1].minTime()
                    && c.numSamples() >= work[n - 1].numSamples()
                    && c.maxTime() >= lastMax
                    && e.prevMaxT() == (n > 1 ? work[n - 2].maxTime() : Long.MIN_VALUE)) {
                samples += c.numSamples() - work[n - 1].numSamples();
                work[n - 1] = c;
            } else {
                refused++;
                continue;
            }
            attached++;
        }
        if (attached > 0) {
            chunks = n == work.length ? work : Arrays.copyOf(work, n);
            head = null; // sealed: the next sample starts a new chunk
            Chunk last = work[n - 1];
            coveredMaxT = last.maxTime();
            if (last.maxTime() > lastT) {
                lastT = last.maxTime();
                lastBits = Double.doubleToRawLongBits(last.lastValue());
            }
        }
        return new long[] {attached, refused, samples, n - cs.length};
    }

    /** Replaces the chunk list (retention, checkpoint load); keeps {@link #head} in step. */
    void setChunks(Chunk[] cs) {
        head = cs.length == 0 ? null : cs[cs.length - 1];
        chunks = cs;
    }

    /**
     * Looks for a sample at {@code t} in the chunks. Returns true and stores its value bits in
     * {@code out[0]} when found.
     */
    boolean find(long t, long[] out) {
        publishHead();
        for (Chunk c : chunks) {
            if (c.numSamples() == 0 || c.minTime() > t) {
                break;
            }
            if (c.maxTime() < t) {
                continue;
            }
            io.tsdb.core.SampleIterator it = c.iterator();
            if (it.seek(t) && it.timestamp() == t) {
                out[0] = Double.doubleToRawLongBits(it.value());
                return true;
            }
            return false;
        }
        return false;
    }

    /**
     * Inserts a sample older than {@link #lastT} (out-of-order window): the chunks from the first
     * one that ends at or after {@code t} are decoded, merged with the sample and re-encoded into
     * new chunks, then published as a new array (readers holding the old array keep a consistent
     * view). The caller checked that no sample exists at {@code t}. Returns the change in chunk count.
     */
    int insertOutOfOrder(long t, long bits) {
        publishHead();
        Chunk[] cs = chunks;
        int k = 0;
        while (k < cs.length - 1 && cs[k].maxTime() < t) {
            k++;
        }
        int total = 1;
        for (int j = k; j < cs.length; j++) {
            total += cs[j].numSamples();
        }
        long[] ts = new long[total];
        long[] vs = new long[total];
        int n = 0;
        boolean inserted = false;
        for (int j = k; j < cs.length; j++) {
            io.tsdb.core.SampleIterator it = cs[j].iterator();
            while (it.next()) {
                long st = it.timestamp();
                if (!inserted && t < st) {
                    ts[n] = t;
                    vs[n++] = bits;
                    inserted = true;
                }
                ts[n] = st;
                vs[n++] = Double.doubleToRawLongBits(it.value());
            }
        }
        if (!inserted) {
            ts[n] = t;
            vs[n++] = bits;
        }
        java.util.List<Chunk> fresh = new java.util.ArrayList<>();
        Chunk cur = null;
        for (int i = 0; i < n; i++) {
            double v = Double.longBitsToDouble(vs[i]);
            if (cur == null || !cur.append(ts[i], v)) {
                if (cur != null) {
                    cur.seal();
                }
                cur = Chunk.create();
                cur.append(ts[i], v);
                fresh.add(cur);
            }
        }
        Chunk[] next = Arrays.copyOf(cs, k + fresh.size());
        for (int i = 0; i < fresh.size(); i++) {
            next[k + i] = fresh.get(i);
        }
        head = next[next.length - 1];
        chunks = next;
        return next.length - cs.length;
    }

    long numSamples() {
        long total = 0;
        for (Chunk c : chunks) {
            total += c.numSamples();
        }
        return total;
    }
}
