package io.tsdb.core;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Scrape-shaped writes, like Prometheus's {@code storage.Appender}: {@link #append} buffers samples
 * (in primitive arrays reused across commits), {@link #commit} logs them (one WAL batch per shard:
 * SERIES records for new series, then SAMPLES records) and applies them to the head. Not
 * thread-safe: use one appender per thread; obtain it from {@link StorageImpl#appender()}.
 *
 * <p>{@code append} returns an opaque <em>appender ref</em> for the series; pass it back on the
 * next call to skip label hashing and lookup ({@code 0} or an unknown ref resolves by labels). A
 * ref stays valid while the store is open, and across reopen for series that were committed.
 *
 * <p>Errors: {@code append} throws at once for null arguments ({@link NullPointerException}),
 * invalid labels ({@link InvalidLabelsException}, {@link LimitExceededException}) and
 * out-of-bounds timestamps ({@link OutOfBoundsException}); the sample is not buffered. Order is
 * checked at {@code commit}: valid samples are written; if any was rejected (out of order,
 * duplicate value) commit throws {@link PartialWriteException} listing the append indexes
 * (0-based, in call order since the last commit/rollback) with their reasons, or the single
 * reason itself when that was the only sample. A sample equal to the newest one (same timestamp,
 * same bits) is an idempotent no-op.
 *
 * <p>Lifetime: samples reach the store only through {@link #commit}. {@link #rollback} discards
 * the buffer; {@link #close} rolls back what is still buffered and ends the appender (use it in a
 * try-with-resources block, committing inside). Samples an appender still buffers when the store
 * closes are discarded too. Every discarded sample is counted in
 * {@link StorageStats#samplesDiscarded()}, so an uncommitted scrape never vanishes unnoticed.
 */
public final class Appender implements AutoCloseable {
    private final StorageImpl store;

    private int n;
    private MemSeries[] pSeries = new MemSeries[1024];
    private long[] pT = new long[1024];
    private long[] pBits = new long[1024];
    /** Caller-defined index reported in rejections (append index, or flat batch index). */
    private long[] pTag = new long[1024];

    private int[] order = new int[1024];
    private final int[] shardStart;
    private final int[] shardPos;
    private final int[] shardTodo;
    private final List<PartialWriteException.Rejection> rejections = new ArrayList<>();
    /** For write(Collection): maps a tag to series/sample indexes. */
    private RejectionMapper mapper;

    interface RejectionMapper {
        PartialWriteException.Rejection map(long tag, RuntimeException reason);
    }

    Appender(StorageImpl store) {
        this.store = store;
        this.shardStart = new int[store.shardCount() + 1];
        this.shardPos = new int[store.shardCount() + 1];
        this.shardTodo = new int[store.shardCount()];
    }

    void setMapper(RejectionMapper m) {
        this.mapper = m;
    }

    /**
     * Buffers one sample. Returns the appender ref of its series (non-zero). A new series is
     * created in the head at once (removed again by {@link #rollback} if never committed).
     *
     * @param ref    0, or a ref returned by an earlier append of this store
     * @param labels the series' labels; may be null only when {@code ref} is valid
     * @param t      the timestamp, in milliseconds since the Unix epoch
     * @param v      the value (bits kept exactly)
     * @return the appender ref of the series, to pass to the next append of it
     * @throws StoreClosedException   if the store is closed
     * @throws IllegalStateException  if this appender is closed
     * @throws OutOfBoundsException   if {@code t} is {@code Long.MIN_VALUE} or {@code Long.MAX_VALUE},
     *                                beyond now + {@link StorageOptions#maxFutureSkew()}, or older than
     *                                the retention floor (min(newest sample, now) -
     *                                {@link StorageOptions#retention()})
     * @throws NullPointerException   if {@code labels} is null and {@code ref} is not a valid ref
     * @throws InvalidLabelsException if the label set is empty, or its metric name is one PromQL cannot
     *                                select bare (unless {@link StorageOptions#utf8MetricNames()})
     * @throws LimitExceededException if the label set is over a limit of {@link StorageOptions},
     *                                or a new series would exceed {@code maxSeries}
     */
    public long append(long ref, Labels labels, long t, double v) {
        store.checkOpen();
        if (closed) {
            throw new IllegalStateException("appender is closed");
        }
        store.checkTimestamp(t, labels);
        MemSeries s = null;
        if (ref > 0 && ref <= (1L << 31)) {
            MemSeries c = store.seriesByRef((int) (ref - 1));
            if (c != null && !c.removed && (labels == null || c.labels == labels || c.labels.equals(labels))) {
                s = c;
            }
        }
        if (s == null) {
            Objects.requireNonNull(labels, "labels");
            s = store.resolve(labels);
        }
        add(s, t, Double.doubleToRawLongBits(v), n);
        return s.ref + 1L;
    }

    /** Buffers a sample for an already resolved series with a caller-defined rejection tag. */
    void add(MemSeries s, long t, long bits, long tag) {
        if (n == pT.length) {
            int cap = n * 2;
            pSeries = Arrays.copyOf(pSeries, cap);
            pT = Arrays.copyOf(pT, cap);
            pBits = Arrays.copyOf(pBits, cap);
            pTag = Arrays.copyOf(pTag, cap);
        }
        pSeries[n] = s;
        pT[n] = t;
        pBits[n] = bits;
        pTag[n] = tag;
        n++;
    }

    /**
     * The buffered samples' series, for the partition that commits them: entries [0, {@link #pending()})
     * are valid until the next append, commit or rollback. Callers only read them.
     */
    MemSeries[] pendingSeries() {
        return pSeries;
    }

    /** The buffered samples' timestamps (see {@link #pendingSeries()}). */
    long[] pendingTimestamps() {
        return pT;
    }

    /** The buffered samples' raw value bits (see {@link #pendingSeries()}). */
    long[] pendingBits() {
        return pBits;
    }

    /** The newest buffered timestamp, or Long.MIN_VALUE when nothing is buffered. */
    long maxPendingTimestamp() {
        long m = Long.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            if (pT[i] > m) {
                m = pT[i];
            }
        }
        return m;
    }

    /** Capacity of the pending arrays. */
    int capacity() {
        return pT.length;
    }

    /** {@return the number of buffered samples} */
    public int pending() {
        return n;
    }

    /** Discards the buffered samples (counted in {@link StorageStats#samplesDiscarded()}). */
    public void rollback() {
        int dropped = n;
        reset();
        store.discarded(dropped, null);
    }

    /**
     * Rolls back whatever is still buffered (counted in {@link StorageStats#samplesDiscarded()})
     * and ends the appender: a later {@code append} throws {@link IllegalStateException}.
     * Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        int dropped = n;
        reset();
        store.discarded(dropped, this);
    }

    private boolean closed;

    /** Empties the buffer; a series this transaction created but never logged is removed. */
    void reset() {
        MemSeries[] ps = pSeries;
        for (int i = 0; i < n; i++) {
            MemSeries s = ps[i];
            // a series this transaction created but never logged: leave no empty series behind
            if (!s.logged && !s.removed && s.chunks.length == 0) {
                store.removeIfUnused(s);
            }
            ps[i] = null;
        }
        n = 0;
    }

    /**
     * Logs and applies the buffered samples, then clears the buffer (also when it throws). Samples
     * are acknowledged per {@link StorageOptions#durability()} when this returns, and visible to
     * readers. Commits of different appenders may run concurrently.
     *
     * @throws PartialWriteException     some samples were rejected (the others are written); its
     *                                   {@code sampleIndex} is the append index
     * @throws OutOfOrderSampleException the only rejection, when nothing was written: a sample older
     *                                   than its series' newest
     * @throws DuplicateSampleException  the only rejection, when nothing was written: a sample at a
     *                                   stored timestamp with other value bits
     * @throws OutOfBoundsException      the only rejection, when nothing was written: a sample below
     *                                   the retention floor, which moved since {@code append}
     * @throws StoreClosedException      the store is closed (and samples were buffered)
     * @throws IOException               the WAL failed ({@link io.tsdb.wal.StorageFullException},
     *                                   {@link io.tsdb.wal.DurabilityException} in SYNC_BATCH,
     *                                   {@link io.tsdb.wal.ShardFailedException},
     *                                   {@link io.tsdb.wal.WalBackpressureException}: all
     *                                   {@link io.tsdb.wal.WalException}s; or a plain write error);
     *                                   shards committed before the failure keep their samples
     * @throws io.tsdb.wal.RecordTooLargeException one shard's part of the commit is too large for the
     *                                   WAL's buffer (an {@link IllegalArgumentException}); earlier
     *                                   shards keep their samples
     */
    public void commit() throws IOException {
        try {
            commitInternal(true);
        } finally {
            reset();
        }
    }

    /** Commits; returns the samples written; throws the rejections when {@code throwRejections}. */
    long commitInternal(boolean throwRejections) throws IOException {
        if (n == 0) {
            return 0;
        }
        rejections.clear();
        long written = store.commit(this);
        if (!rejections.isEmpty() && throwRejections) {
            throw rejectionException(written);
        }
        return written;
    }

    List<PartialWriteException.Rejection> rejections() {
        return rejections;
    }

    RuntimeException rejectionException(long written) {
        return PartialWriteException.of(rejections, rejections.size(), written);
    }

    PartialWriteException.Rejection rejection(int i, RuntimeException reason) {
        if (mapper != null) {
            return mapper.map(pTag[i], reason);
        }
        return new PartialWriteException.Rejection(0, i, pTag[i], reason);
    }

    /** Groups buffered samples by shard (stable counting sort). Returns order; shardStart filled. */
    int[] groupByShard(int shardCount) {
        if (order.length < n) {
            order = new int[Math.max(n, order.length * 2)];
        }
        int[] start = shardStart;
        Arrays.fill(start, 0);
        MemSeries[] ps = pSeries;
        for (int i = 0; i < n; i++) {
            start[ps[i].part + 1]++;
        }
        for (int s = 0; s < shardCount; s++) {
            start[s + 1] += start[s];
        }
        int[] pos = shardPos;
        System.arraycopy(start, 0, pos, 0, shardCount);
        for (int i = 0; i < n; i++) {
            order[pos[ps[i].part]++] = i;
        }
        return order;
    }

    int[] shardTodo() {
        return shardTodo;
    }

    int[] shardStart() {
        return shardStart;
    }
}
