package io.tsdb.core;

import io.tsdb.core.chunk.Chunk;
import io.tsdb.wal.Durability;
import io.tsdb.wal.RecordHandler;
import io.tsdb.wal.ReplayResult;
import io.tsdb.wal.ShardedWAL;
import io.tsdb.wal.WalOptions;
import io.tsdb.wal.WalStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.ToLongFunction;
import org.roaringbitmap.RoaringBitmap;

/**
 * The storage engine. Thread-safe.
 *
 * <p>Units: every timestamp (of a {@link Sample}, {@code mint}/{@code maxt} of
 * {@link #iterator}) is in milliseconds since the Unix epoch (UTC); durations are the
 * {@link java.time.Duration}s of {@link StorageOptions}.
 *
 * <p>Thread safety: every public method may be called from any number of threads at once,
 * writes and reads alike. {@link Appender}s, obtained here, are not thread-safe: one per thread.
 *
 * <p>Closed store: from the moment {@link #close()} is called, every method that reads or writes
 * the store ({@link #appender}, {@link #write}, {@link #flush}, {@link #checkpoint}, the read
 * primitives below, {@link #stats}) throws {@link StoreClosedException} (an
 * {@link IllegalStateException}); {@link #directory}, {@link #options}, {@link #shards},
 * {@link #seriesGeneration}, {@link #lastMaintenanceError} and {@link #applyRetention} do not
 * check and keep working.
 *
 * <p>READ PRIMITIVES ARE A FROZEN API: tsdb-query codes against {@link #postings},
 * {@link #allPostings}, {@link #labelNames}, {@link #labelValues}, {@link #seriesLabels},
 * {@link #iterator}. Series refs are non-negative ints, stable while the store is open.
 *
 * <p>Layout of a store directory: {@code STORE} (identity: format version, shard count),
 * {@code wal/} (the {@link ShardedWAL}), {@code checkpoints/shard-SSSS/ckpt-<offset>}. See
 * {@code docs/architecture.md}.
 *
 * <p>Refs: {@code ref = localIndex * shardCount + shard}; the shard of a series is
 * {@code wal.shardFor(labels.hash())}. Refs are ints, so a store holds at most 2^31 series refs
 * over its life (refs of series removed by retention are not reused while the store is open).
 */
public final class StorageImpl implements Storage {
    private static final System.Logger LOG = System.getLogger(StorageImpl.class.getName());

    private final Path dir;
    /** The writer's lock on {@code dir}, released by {@link #close()}; null for a read-only open. */
    private final StoreLock lock;
    /** Opened by {@link #openReadOnly}: replays into memory, writes nothing, takes no lock. */
    private final boolean readOnly;

    private final StorageOptions options;
    private final ShardedWAL wal;
    private final int shardCount;
    /** shardCount - 1 when shardCount is a power of two, else -1. */
    private final int shardMask;

    private final HeadPartition[] parts;
    private final ToLongFunction<Labels> hashFn;
    private final long retentionMillis;
    private final long skewMillis;
    /**
     * now + skewMillis at the last clock read: a timestamp at or below it is within the bound. Racy
     * reads and writes are benign (any value written was a true bound when written, and a stale one
     * only costs a clock read).
     */
    private volatile long futureBound = Long.MIN_VALUE;
    /** The clock's value at its last read (see {@link #readClock()}); Long.MIN_VALUE before the first. */
    private volatile long clockSeen = Long.MIN_VALUE;
    /** PAGE_CACHE: the WAL runs ASYNC and each commit flushes its shards after releasing the partition locks. */
    private final boolean flushAfterCommit;

    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean closed;
    private final AtomicLong generation = new AtomicLong();
    private final AtomicInteger totalSeries = new AtomicInteger();
    private final AtomicLong maxTime = new AtomicLong(Long.MIN_VALUE);
    private final LongAdder written = new LongAdder();
    private final LongAdder rejected = new LongAdder();
    /** Samples appended and then rolled back (explicitly, by Appender.close, or by the store's close). */
    private final LongAdder discarded = new LongAdder();
    /**
     * The appenders handed out and not yet closed (weakly held: a dropped appender leaves by GC),
     * so that close can count the samples they still buffer.
     */
    private final java.util.Set<Appender> openAppenders =
            Collections.synchronizedSet(Collections.newSetFromMap(new java.util.WeakHashMap<>()));
    /**
     * Appenders reused by {@link #write(Collection)} (a store-owned pool, not a ThreadLocal: a
     * ThreadLocal value referencing the store would keep closed stores alive in long-lived threads).
     */
    private final java.util.concurrent.ConcurrentLinkedQueue<Appender> writeAppenders =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

    private final AtomicInteger pooledAppenders = new AtomicInteger();

    private StorageStats.Replay replayStats;
    private final List<String> checkpointProblems = Collections.synchronizedList(new ArrayList<>());
    private int checkpointsLoaded;
    private long checkpointLoadedSamples;
    private double checkpointLoadSeconds;

    private final Object checkpointLock = new Object();
    private final long[] lastCheckpointOffset;
    private volatile long checkpointsWritten;
    private volatile double lastCheckpointSeconds;
    private volatile long lastCheckpointBytes;
    private volatile long lastCheckpointTime;
    private volatile long lastCheckpointNanos = System.nanoTime();
    private volatile long walBytesAtCheckpoint;
    private volatile long lastRetentionNanos = System.nanoTime();
    private ScheduledExecutorService maintenance;
    /** Per-shard writers of the head chunk log; null when {@link StorageOptions#headChunkLog()} is off. */
    private final ChunkLogWriter chunkLog;

    private final List<String> chunkLogProblems = Collections.synchronizedList(new ArrayList<>());
    private volatile Throwable lastMaintenanceError;

    private StorageImpl(Path dir, StorageOptions options, ShardedWAL wal, StoreLock lock, boolean readOnly) {
        this.dir = dir;
        this.lock = lock;
        this.readOnly = readOnly;
        this.options = options;
        this.wal = wal;
        this.shardCount = wal.shardCount();
        this.shardMask = Integer.bitCount(shardCount) == 1 ? shardCount - 1 : -1;
        this.hashFn = options.seriesHash();
        this.retentionMillis = options.retention().toMillis();
        this.skewMillis = options.maxFutureSkew().toMillis();
        this.flushAfterCommit = options.durability() == Durability.PAGE_CACHE;
        this.parts = new HeadPartition[shardCount];
        for (int i = 0; i < shardCount; i++) {
            parts[i] = new HeadPartition(
                    i,
                    shardCount,
                    totalSeries,
                    options.maxSeries(),
                    generation::incrementAndGet,
                    options.outOfOrderWindow().toMillis());
        }
        this.chunkLog = options.headChunkLog() && !readOnly
                ? new ChunkLogWriter(
                        dir, parts, wal, options.outOfOrderWindow().toMillis() > 0, e -> lastMaintenanceError = e)
                : null;
        for (HeadPartition p : parts) {
            p.persistSealed = chunkLog != null;
        }
        this.lastCheckpointOffset = new long[shardCount];
        Arrays.fill(lastCheckpointOffset, -1);
    }

    /**
     * Opens (creating if needed) the store in {@code dir}: loads the newest valid checkpoint of each
     * shard and replays the WAL after it, in parallel. A damaged checkpoint is skipped (renamed to
     * {@code *.damaged}, reported in {@link StorageStats#checkpoint()}), not thrown. One writer at a
     * time: the store holds an OS lock on {@code <dir>/lock} until {@link #close()} (released by the
     * OS if the process dies).
     *
     * @param dir     the store directory; created with its parents if missing; otherwise it must be a
     *                writable directory that holds a store ({@code STORE}) or nothing
     * @param options the options; {@link StorageOptions#shards()} must be 0 or the count the store
     *                was created with
     * @return the open store; close it with {@link #close()}
     * @throws NullPointerException     if {@code dir} or {@code options} is null
     * @throws IllegalArgumentException if the store was created with another shard count than a
     *                                  non-zero {@link StorageOptions#shards()}
     * @throws StoreLockedException     if another writer, in this JVM or another process, holds the store
     * @throws java.nio.file.NotDirectoryException if {@code dir} is a regular file
     * @throws java.nio.file.AccessDeniedException if {@code dir} is not writable
     * @throws IOException              if the directory is not empty and holds no store, cannot be
     *                                  created or read, its {@code STORE} identity file is damaged,
     *                                  of another format version or not a tsdb store, or the WAL
     *                                  cannot be opened and recovered (the WAL and the lock are
     *                                  released again before this is thrown)
     */
    public static StorageImpl open(Path dir, StorageOptions options) throws IOException {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(options, "options");
        prepareDirectory(dir);
        StoreLock lock = StoreLock.acquire(dir);
        try {
            return open(dir, options, lock);
        } catch (IOException | RuntimeException | Error e) {
            try {
                lock.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Opens the store in {@code dir} for reading only, with default options: see
     * {@link #openReadOnly(Path, StorageOptions)}.
     *
     * @param dir the store directory
     * @return the read-only store; close it with {@link #close()}
     * @throws NullPointerException if {@code dir} is null
     * @throws IOException          as for {@link #openReadOnly(Path, StorageOptions)}
     */
    public static StorageImpl openReadOnly(Path dir) throws IOException {
        return openReadOnly(dir, StorageOptions.defaults());
    }

    /**
     * Opens an existing store for reading only: loads its checkpoints and replays its WAL into
     * memory (what a writer's open would hold, without repairing anything), and writes, creates,
     * renames or deletes nothing in {@code dir}. It takes no lock, so it can run beside the
     * process writing the store (inspection tools: {@code tsdb stats}, {@code tsdb query}); it then
     * sees, per shard, a prefix of what that writer had written when the open read it. The head
     * chunk log is not used (it is a cache; the WAL holds the same samples), and no background
     * maintenance runs. Write calls throw {@link ReadOnlyStoreException}; reads, {@link #stats()}
     * and {@link #applyRetention()} (in memory) work.
     *
     * <p>Of {@code options}, only the replay and query-side settings apply
     * ({@code replayParallelism}, {@code retention}, {@code outOfOrderWindow} for replay).
     *
     * @param dir     the store directory; must exist and hold a store
     * @param options the options (see above)
     * @return the read-only store; close it with {@link #close()}
     * @throws NullPointerException                 if {@code dir} or {@code options} is null
     * @throws java.nio.file.NoSuchFileException    {@code dir} does not exist
     * @throws java.nio.file.NotDirectoryException  {@code dir} is a regular file
     * @throws IOException                          {@code dir} holds no store ({@code STORE} missing or
     *                                              damaged), or reading failed
     */
    public static StorageImpl openReadOnly(Path dir, StorageOptions options) throws IOException {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(options, "options");
        if (!Files.exists(dir)) {
            throw new java.nio.file.NoSuchFileException(dir.toString(), null, "no store to open read-only");
        }
        if (!Files.isDirectory(dir)) {
            throw new java.nio.file.NotDirectoryException(dir + " is not a directory: a store is a directory");
        }
        int recorded = StoreMeta.readShards(dir);
        if (recorded == 0) {
            throw new IOException("directory " + dir + " holds no tsdb store (no " + StoreMeta.FILE + " file)");
        }
        WalOptions walOptions = WalOptions.builder()
                .readOnly(true)
                .shards(recorded)
                .compression(options.walCompression())
                .build();
        ShardedWAL wal = ShardedWAL.open(dir.resolve("wal"), walOptions);
        return start(dir, options.toBuilder().checkpointOnClose(false).build(), wal, null, true);
    }

    /**
     * Builds the store over an opened WAL and recovers it; a writer's store also starts its
     * background threads. Closes the WAL if that fails.
     */
    private static StorageImpl start(Path dir, StorageOptions options, ShardedWAL wal, StoreLock lock, boolean readOnly)
            throws IOException {
        try {
            StorageImpl store = new StorageImpl(dir, options, wal, lock, readOnly);
            store.recover();
            if (!readOnly) {
                store.startMaintenance();
                store.startChunkWriter();
            }
            return store;
        } catch (IOException | RuntimeException | Error e) {
            try {
                wal.close();
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** {@return whether this store was opened with {@link #openReadOnly}} */
    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    private void checkWritable(String call) {
        if (readOnly) {
            throw new ReadOnlyStoreException(call + ": store " + dir + " was opened read-only");
        }
    }

    /**
     * Checks that {@code dir} is a directory this store may write (creating it when it does not
     * exist): not a regular file, writable, and either a store (it holds {@code STORE}) or empty.
     * A non-empty directory without a store identity (a source tree, another database's data) is
     * refused before anything is written into it.
     */
    private static void prepareDirectory(Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new java.nio.file.NotDirectoryException(dir + " is not a directory: a store is a directory");
        }
        if (!Files.exists(dir)) {
            Files.createDirectories(dir);
            return;
        }
        if (!Files.exists(dir.resolve(StoreMeta.FILE))) {
            List<String> foreign = new ArrayList<>();
            try (java.util.stream.Stream<Path> entries = Files.list(dir)) {
                entries.filter(p -> !StoreLock.isLockFile(p)
                                && !p.getFileName().toString().equals(StoreMeta.FILE + ".tmp"))
                        .limit(4)
                        .forEach(p -> foreign.add(p.getFileName().toString()));
            }
            if (!foreign.isEmpty()) {
                throw new IOException("directory " + dir + " is not empty and holds no tsdb store (no " + StoreMeta.FILE
                        + " file; it holds " + String.join(", ", foreign.subList(0, Math.min(3, foreign.size())))
                        + (foreign.size() > 3 ? ", ..." : "")
                        + "): refusing to write into it; use a new or empty directory");
            }
        }
        if (!Files.isWritable(dir)) {
            throw new java.nio.file.AccessDeniedException(
                    dir.toString(),
                    null,
                    "store directory is not writable; " + "open it with StorageImpl.openReadOnly to inspect it");
        }
    }

    private static StorageImpl open(Path dir, StorageOptions options, StoreLock lock) throws IOException {
        int recorded = StoreMeta.readShards(dir);
        int shards = options.shards();
        if (recorded > 0 && shards > 0 && recorded != shards) {
            throw new IllegalArgumentException("store " + dir + " was created with " + recorded
                    + " shards; the options ask for " + shards + " (use 0 or " + recorded + ")");
        }
        if (shards == 0) {
            shards = recorded;
        }
        if (recorded == 0) {
            // the identity comes first: a directory holding anything of ours also holds STORE
            shards = shards > 0 ? shards : WalOptions.defaultShardCount();
            StoreMeta.write(dir, shards);
        }
        // PAGE_CACHE is implemented as an ASYNC WAL plus a per-shard flush after the partition lock is
        // released, so that concurrent commits to one shard share a block write (group commit).
        Durability walDurability =
                options.durability() == Durability.PAGE_CACHE ? Durability.ASYNC : options.durability();
        WalOptions.Builder wb = WalOptions.builder()
                .durability(walDurability)
                .flushInterval(options.flushInterval())
                .compression(options.walCompression());
        if (shards > 0) {
            wb.shards(shards);
        }
        if (options.walSegmentBytes() > 0) {
            wb.segmentBytes(options.walSegmentBytes());
        }
        if (options.walDisk() != null) {
            wb.disk(options.walDisk());
        }
        if (options.walMaxBufferedBytes() > 0) {
            wb.maxBufferedBytesPerShard(options.walMaxBufferedBytes());
        }
        if (options.walBackpressureTimeout() != null) {
            wb.backpressureTimeout(options.walBackpressureTimeout());
        }
        ReplayWarmup.startIfWorthwhile(dir.resolve("wal"), WARMUP_MIN_WAL_BYTES, options.seriesHash());
        ShardedWAL wal = ShardedWAL.open(dir.resolve("wal"), wb.build());
        return start(dir, options, wal, lock, false);
    }

    // ====================================================================== recovery

    /** WAL size from which a replay primes the JIT first ({@link ReplayWarmup}; a few ms, once per JVM). */
    private static final long WARMUP_MIN_WAL_BYTES = 1L << 20;

    private void recover() throws IOException {
        long t0 = System.nanoTime();
        int par = Math.max(1, Math.min(options.replayParallelism(), shardCount));
        long[] from = new long[shardCount];
        Path ckRoot = dir.resolve("checkpoints");
        ExecutorService pool = Executors.newFixedThreadPool(par, r -> {
            Thread t = new Thread(r, "tsdb-checkpoint-load");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<long[]>> futures = new ArrayList<>();
            for (int i = 0; i < shardCount; i++) {
                final int shard = i;
                futures.add(pool.submit(() -> {
                    long[] r = loadCheckpoint(ckRoot, shard);
                    loadChunkLog(shard, r[0]);
                    return r;
                }));
            }
            for (int i = 0; i < shardCount; i++) {
                long[] r = futures.get(i).get();
                from[i] = Math.max(0, r[0]);
                lastCheckpointOffset[i] = r[0];
                if (r[0] >= 0) {
                    checkpointsLoaded++;
                    checkpointLoadedSamples += r[1];
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while loading checkpoints", e);
        } catch (ExecutionException e) {
            throw new IOException("loading checkpoints failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        long t1 = System.nanoTime();
        checkpointLoadSeconds = (t1 - t0) / 1e9;

        ReplayResult rr = wal.replay(
                shard -> {
                    HeadPartition p = parts[shard];
                    return (RecordHandler) (offset, rec) -> p.replayRecord(offset, rec, hashFn);
                },
                from,
                par);
        for (HeadPartition p : parts) {
            p.finishReplay(); // the replay threads were joined by wal.replay: their plain stores are visible here
            if (chunkLog != null && p.replayInsertedLate()) {
                chunkLog.markOutOfOrder(p.shard);
            }
        }
        long t2 = System.nanoTime();

        HeadPartition.ReplayCounts c = HeadPartition.ReplayCounts.NONE;
        for (HeadPartition p : parts) {
            c = c.plus(p.replayCounts());
        }
        maxTime.set(c.newestT());
        double secs = (t2 - t0) / 1e9;
        boolean clean;
        String report;
        try {
            clean = wal.recoveryReport().clean();
            report = String.valueOf(wal.recoveryReport());
        } catch (RuntimeException e) {
            clean = true;
            report = "unavailable: " + e;
        }
        replayStats = new StorageStats.Replay(
                secs,
                (t2 - t1) / 1e9,
                c.records(),
                c.samples(),
                secs > 0 ? (c.samples() + c.attachedSamples() + checkpointLoadedSamples) / secs : 0,
                c.unknownRefSamples(),
                c.corruptRecords(),
                c.duplicateSamples(),
                c.outOfOrderSamples(),
                c.conflictingSeries(),
                c.firstProblem(),
                clean,
                report,
                c.attachedChunks(),
                c.attachedSamples(),
                c.coveredSamples(),
                c.unattachedChunks(),
                List.copyOf(chunkLogProblems));
        if (c.unknownRefSamples() > 0
                || c.corruptRecords() > 0
                || c.outOfOrderSamples() > 0
                || c.conflictingSeries() > 0) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "replay of " + dir + ": " + c.unknownRefSamples()
                            + " samples of unknown series, " + c.corruptRecords() + " corrupt records, "
                            + c.outOfOrderSamples()
                            + " out-of-order samples, " + c.conflictingSeries() + " conflicting series records; first: "
                            + c.firstProblem());
        }
        // A checkpoint newer than the WAL's end (the WAL lost its tail): new records would get offsets
        // the checkpoint claims to cover. Write a fresh checkpoint at the real end and drop the stale ones.
        for (int i = 0; i < shardCount; i++) {
            if (lastCheckpointOffset[i] > wal.nextOffset(i) && readOnly) {
                checkpointProblems.add("shard " + i + ": checkpoint at WAL offset " + lastCheckpointOffset[i]
                        + " is beyond the WAL's end " + wal.nextOffset(i)
                        + " (read-only open: a writer's open rewrites it)");
            } else if (lastCheckpointOffset[i] > wal.nextOffset(i)) {
                checkpointProblems.add("shard " + i + ": checkpoint at WAL offset " + lastCheckpointOffset[i]
                        + " is beyond the WAL's end " + wal.nextOffset(i) + "; rewritten");
                lastCheckpointOffset[i] = -1;
                checkpointShard(i, true); // publish drops the stale checkpoints once the fresh one is durable
            }
        }
        if (retentionMillis > 0) {
            applyRetention();
        }
        walBytesAtCheckpoint = safeWalBytes();
    }

    /** Loads the newest valid checkpoint of a shard; returns {offset or -1, samples}. */
    private long[] loadCheckpoint(Path ckRoot, int shard) throws IOException {
        Path sd = Checkpoints.shardDir(ckRoot, shard);
        if (!readOnly) {
            Checkpoints.removeTemps(sd);
        }
        for (long off : Checkpoints.list(sd)) {
            Path f = Checkpoints.file(sd, off);
            try {
                Checkpoints.Loaded l = Checkpoints.read(f, shard, shardCount);
                if (l.walOffset() != off) {
                    throw new CorruptRecordException("checkpoint " + f + " states WAL offset " + l.walOffset());
                }
                Checkpoints.apply(l, parts[shard], hashFn);
                return new long[] {off, l.samples()};
            } catch (CorruptRecordException | IOException e) {
                String msg = "shard " + shard + ": damaged checkpoint " + f.getFileName() + " skipped (falling back to "
                        + "an older one and the WAL) and renamed to *.damaged: " + e.getMessage();
                if (readOnly) {
                    checkpointProblems.add("shard " + shard + ": damaged checkpoint " + f.getFileName()
                            + " skipped (read-only open: left as it is): " + e.getMessage());
                    continue;
                }
                checkpointProblems.add(msg);
                LOG.log(System.Logger.Level.WARNING, msg);
                // set it aside so that it no longer counts as one of the two checkpoints kept: the WAL
                // is then truncated only below checkpoints that loaded
                try {
                    Files.move(
                            f,
                            f.resolveSibling(f.getFileName() + ".damaged"),
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    Checkpoints.fsyncDir(sd);
                } catch (IOException moveFailed) {
                    e.addSuppressed(moveFailed);
                }
            }
        }
        return new long[] {-1, 0};
    }

    /**
     * Loads the shard's head chunk log (records not covered by the checkpoint at {@code ckOffset},
     * within the recovered WAL) and attaches what fits; with the log off, deletes any left over.
     */
    private void loadChunkLog(int shard, long ckOffset) throws IOException {
        if (readOnly) {
            return; // a cache of the WAL; loading it could mean repairing it
        }
        if (chunkLog == null) {
            ChunkLogWriter.deleteShard(dir, shard);
            return;
        }
        chunkLog.load(shard, ckOffset, chunkLogProblems);
    }

    /** Directory of the head chunk log under the store. */
    static final String CHUNK_LOG_DIR = ChunkLogWriter.DIR;

    private void startChunkWriter() {
        if (chunkLog != null) {
            chunkLog.start();
        }
    }

    /**
     * Moves the chunks sealed since the last call to the head chunk log now (the chunk writer
     * thread does this every 100 ms; tests call it to make a crash image deterministic).
     */
    void persistSealedChunks() {
        if (chunkLog != null) {
            chunkLog.persist();
        }
    }

    // ====================================================================== writing

    /**
     * A new appender for scrape-shaped writes (one per thread).
     *
     * @return a new, empty appender; not thread-safe
     * @throws StoreClosedException if the store is closed
     * @throws ReadOnlyStoreException if the store was opened with {@link #openReadOnly}
     */
    @Override
    public Appender appender() {
        checkOpen();
        checkWritable("appender");
        Appender a = new Appender(this);
        openAppenders.add(a);
        return a;
    }

    /** An appender rolled back {@code samples} buffered samples (counted in {@link StorageStats#samplesDiscarded()}). */
    void discarded(int samples, Appender closedAppender) {
        if (samples > 0) {
            discarded.add(samples);
        }
        if (closedAppender != null) {
            openAppenders.remove(closedAppender);
        }
    }

    /**
     * Writes one series' samples: {@code write(List.of(series))}, with the same guarantees and
     * exceptions as {@link #write(Collection)}. Throws the specific exception when a single sample
     * was rejected and nothing was written, else {@link PartialWriteException}.
     *
     * @param series the labels and samples (timestamps in ms since the epoch) to write
     * @throws NullPointerException if {@code series} is null
     * @throws IOException          see {@link #write(Collection)}; the other exceptions too
     */
    @Override
    public void write(TimeSeries series) throws IOException {
        Objects.requireNonNull(series, "series");
        write(List.of(series));
    }

    /**
     * Writes a batch. Valid samples are written; if any was rejected this throws
     * {@link PartialWriteException} listing each rejected index and reason (or, when a single
     * rejection left nothing written, that reason's exception itself). A series with no samples is
     * skipped (its labels are not even validated). A sample equal to the newest of its series (same
     * timestamp, same value bits) is an idempotent no-op. When this returns, the samples are
     * acknowledged per {@link StorageOptions#durability()} and visible to readers.
     *
     * @param series the series to write; samples' timestamps in ms since the epoch
     * @throws NullPointerException     if {@code series} or one of its elements is null (then nothing
     *                                  is written)
     * @throws StoreClosedException     if the store is closed
     * @throws ReadOnlyStoreException   if the store was opened with {@link #openReadOnly}
     * @throws PartialWriteException    if some samples or series were rejected and the others written
     *                                  (an {@link IllegalArgumentException})
     * @throws InvalidLabelsException   if the only rejection was a series' empty label set, or a
     *                                  metric name PromQL cannot select bare (unless
     *                                  {@link StorageOptions#utf8MetricNames()})
     * @throws LimitExceededException   if the only rejection was a label set over a limit of
     *                                  {@link StorageOptions} ({@code maxSeries} included)
     * @throws OutOfBoundsException     if the only rejected sample had a reserved timestamp
     *                                  ({@code Long.MIN_VALUE}, {@code Long.MAX_VALUE}), one beyond
     *                                  now + {@code maxFutureSkew} (1 h by default), or one older than
     *                                  the retention floor
     * @throws OutOfOrderSampleException if the only rejected sample was older than its series' newest
     * @throws DuplicateSampleException if the only rejected sample had the timestamp of a stored one
     *                                  with other value bits
     * @throws IOException              if the WAL failed to take the records, always an
     *                                  {@link io.tsdb.wal.WalException} or a plain {@code IOException}
     *                                  (a write error): {@link io.tsdb.wal.StorageFullException},
     *                                  {@link io.tsdb.wal.DurabilityException} in SYNC_BATCH,
     *                                  {@link io.tsdb.wal.ShardFailedException} (a shard refuses
     *                                  writes until the store is reopened),
     *                                  {@link io.tsdb.wal.WalBackpressureException} (the shard's
     *                                  buffer stayed full past the backpressure timeout); shards
     *                                  committed before the failure keep their samples
     * @throws io.tsdb.wal.RecordTooLargeException if one shard's part of the batch is too large for
     *                                  the WAL's buffer (an {@link IllegalArgumentException}; earlier
     *                                  shards keep their samples)
     */
    @Override
    public void write(Collection<TimeSeries> series) throws IOException {
        Objects.requireNonNull(series, "series");
        int si = 0;
        for (TimeSeries ts : series) {
            if (ts == null) {
                throw new NullPointerException("series[" + si + "]");
            }
            si++;
        }
        checkOpen();
        checkWritable("write");
        int count = si;
        long[] flatStart = new long[count + 1];
        List<PartialWriteException.Rejection> pre = new ArrayList<>();
        long preRejectedSamples = 0;
        Appender a = writeAppenders.poll();
        if (a == null) {
            a = new Appender(this);
        } else {
            pooledAppenders.decrementAndGet();
        }
        a.reset();
        a.setMapper((tag, reason) -> {
            int idx = Arrays.binarySearch(flatStart, 0, count, tag);
            int sIdx = idx >= 0 ? idx : -idx - 2;
            while (sIdx + 1 < count && flatStart[sIdx + 1] == tag) {
                sIdx++; // skip empty series
            }
            return new PartialWriteException.Rejection(sIdx, (int) (tag - flatStart[sIdx]), tag, reason);
        });
        try {
            long flat = 0;
            si = 0;
            for (TimeSeries ts : series) {
                flatStart[si] = flat;
                List<Sample> samples = ts.samples();
                int ns = samples.size();
                MemSeries s = null;
                try {
                    if (ns > 0) {
                        validateForWrite(ts.labels());
                    }
                } catch (InvalidLabelsException | LimitExceededException e) {
                    pre.add(new PartialWriteException.Rejection(si, -1, flat, e));
                    preRejectedSamples += ns;
                    flat += ns;
                    si++;
                    continue;
                }
                for (int j = 0; j < ns; j++) {
                    Sample smp = samples.get(j);
                    try {
                        checkTimestamp(smp.timestamp(), ts.labels());
                    } catch (OutOfBoundsException e) {
                        pre.add(new PartialWriteException.Rejection(si, j, flat + j, e));
                        preRejectedSamples++;
                        continue;
                    }
                    if (s == null) {
                        try {
                            s = resolveValidated(ts.labels());
                        } catch (LimitExceededException e) {
                            pre.add(new PartialWriteException.Rejection(si, -1, flat, e));
                            preRejectedSamples += ns - j;
                            break;
                        }
                    }
                    a.add(s, smp.timestamp(), Double.doubleToRawLongBits(smp.value()), flat + j);
                }
                flat += ns;
                si++;
            }
            flatStart[count] = flat;
            long w = a.pending() == 0 ? 0 : a.commitInternal(false);
            List<PartialWriteException.Rejection> later = a.rejections();
            if (!pre.isEmpty() || !later.isEmpty()) {
                rejected.add(preRejectedSamples);
                List<PartialWriteException.Rejection> all = new ArrayList<>(pre.size() + later.size());
                all.addAll(pre);
                all.addAll(later);
                all.sort((x, y) -> Long.compare(x.flatIndex(), y.flatIndex()));
                throw PartialWriteException.of(all, preRejectedSamples + later.size(), w);
            }
        } finally {
            a.setMapper(null);
            a.reset(); // committed or rejected: nothing of a write() call is discarded
            // keep a few small appenders for reuse; drop big ones (bounded memory)
            if (a.capacity() <= 1 << 16
                    && pooledAppenders.incrementAndGet()
                            <= 2 * Runtime.getRuntime().availableProcessors()) {
                writeAppenders.offer(a);
            } else {
                pooledAppenders.decrementAndGet();
            }
        }
    }

    /** Called by {@link Appender#commit()}: per shard, log and apply. */
    long commit(Appender a) throws IOException {
        lifecycle.readLock().lock();
        try {
            checkOpen();
            int[] order = a.groupByShard(shardCount);
            int[] st = a.shardStart();
            boolean ret = retentionMillis > 0;
            long floor = ret ? retentionFloor() : Long.MIN_VALUE;
            List<PartialWriteException.Rejection> rej = a.rejections();
            long w = 0;
            // Visit the shards whose lock is free first (tryLock) and block only when every
            // remaining one is busy: writers spread over the partitions instead of queueing in
            // shard order behind each other.
            int[] todo = a.shardTodo();
            int left = 0;
            for (int s = 0; s < shardCount; s++) {
                if (st[s + 1] > st[s]) {
                    todo[left++] = s;
                }
            }
            while (left > 0) {
                boolean progressed = false;
                for (int k = 0; k < left; ) {
                    int s = todo[k];
                    int done = parts[s].tryCommit(a, order, st[s], st[s + 1], wal, rej, ret, floor);
                    if (done >= 0) {
                        w += done;
                        todo[k] = todo[--left];
                        progressed = true;
                    } else {
                        k++;
                    }
                }
                if (!progressed) {
                    int s = todo[0];
                    w += parts[s].commit(a, order, st[s], st[s + 1], wal, rej, ret, floor);
                    todo[0] = todo[--left];
                }
            }
            if (flushAfterCommit) {
                // acknowledge once the records left the JVM; concurrent committers share the write
                for (int s = 0; s < shardCount; s++) {
                    if (st[s + 1] > st[s]) {
                        wal.shard(s).flush();
                    }
                }
            }
            long m = a.maxPendingTimestamp();
            long cur;
            while (m > (cur = maxTime.get()) && !maxTime.compareAndSet(cur, m)) {
                // retry
            }
            written.add(w);
            rejected.add(rej.size());
            return w;
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** Removes a series that an appender created but never committed (no samples, never logged). */
    void removeIfUnused(MemSeries s) {
        parts[s.part].removeIfUnused(s);
    }

    int shardCount() {
        return shardCount;
    }

    MemSeries seriesByRef(int ref) {
        if (ref < 0) {
            return null;
        }
        return parts[shardMask >= 0 ? ref & shardMask : ref % shardCount].byRef(ref);
    }

    /** Validates labels for writing and returns the (possibly new) series. */
    MemSeries resolve(Labels labels) {
        validateForWrite(labels);
        return resolveValidated(labels);
    }

    private MemSeries resolveValidated(Labels labels) {
        long h = hashFn.applyAsLong(labels);
        return parts[wal.shardFor(h)].resolve(labels, h);
    }

    void validateForWrite(Labels labels) {
        Objects.requireNonNull(labels, "labels");
        if (labels.isEmpty()) {
            throw new InvalidLabelsException(
                    "empty label set: a series needs at least one label with a non-empty value");
        }
        if (!options.utf8MetricNames()) {
            Labels.validateMetricName(labels.metricName());
        }
        int n = labels.size();
        if (n > options.maxLabelsPerSeries()) {
            throw new LimitExceededException(
                    "maxLabelsPerSeries",
                    "label set " + labels.toShortString() + " has " + n + " labels, over the limit maxLabelsPerSeries="
                            + options.maxLabelsPerSeries());
        }
        for (int i = 0; i < n; i++) {
            String name = labels.name(i);
            if (name.length() > options.maxLabelNameLength()) {
                throw new LimitExceededException(
                        "maxLabelNameLength",
                        "label name \"" + name.substring(0, 32)
                                + "...\" has " + name.length() + " characters, over the limit maxLabelNameLength="
                                + options.maxLabelNameLength());
            }
            String value = labels.value(i);
            if (value.length() > options.maxLabelValueLength()) {
                throw new LimitExceededException(
                        "maxLabelValueLength",
                        "value of label \"" + name + "\" has "
                                + value.length() + " characters, over the limit maxLabelValueLength="
                                + options.maxLabelValueLength());
            }
        }
        // UTF-8 needs at most 3 bytes per char: count bytes only when that bound exceeds the limit
        // (a per-char loop per new series that the common, short label set never needs)
        long chars = 0;
        for (String str : labels.raw()) {
            chars += str.length();
        }
        int bytes = chars * 3 <= options.maxLabelSetBytes() ? 0 : labels.utf8Bytes();
        if (bytes > options.maxLabelSetBytes()) {
            throw new LimitExceededException(
                    "maxLabelSetBytes",
                    "label set of " + labels.metricName() + " has " + bytes
                            + " bytes of names and values, over the limit maxLabelSetBytes="
                            + options.maxLabelSetBytes());
        }
    }

    void checkTimestamp(long t, Labels labels) {
        if (t == Long.MIN_VALUE || t == Long.MAX_VALUE) {
            throw new OutOfBoundsException(
                    "timestamp " + t + (t == Long.MIN_VALUE ? " (Long.MIN_VALUE)" : " (Long.MAX_VALUE)")
                            + " is reserved and not accepted" + forSeries(labels));
        }
        if (skewMillis > 0 && t > futureBound) {
            // the bound only grows with the clock: read the clock only for a sample beyond the last
            // bound seen (a clock read per sample cost ~15% of ingest on the promtool workload)
            long now = readClock();
            long bound = now > Long.MAX_VALUE - skewMillis ? Long.MAX_VALUE : now + skewMillis;
            futureBound = bound;
            if (t > bound) {
                throw new OutOfBoundsException("timestamp " + t + " is beyond now (" + now + ") + maxFutureSkew ("
                        + skewMillis + " ms)" + forSeries(labels) + "; timestamps are epoch milliseconds"
                        + (t > now * 100 ? " (this one looks like micro- or nanoseconds)" : "")
                        + "; StorageOptions.maxFutureSkew(Duration.ZERO) lifts the bound for backfill");
            }
        }
        if (retentionMillis > 0) {
            long floor = retentionFloor();
            if (t < floor) {
                throw new OutOfBoundsException("timestamp " + t + " is older than the retention floor " + floor
                        + " (min(newest " + maxTime.get() + ", now) - retention " + retentionMillis + " ms)"
                        + forSeries(labels));
            }
        }
    }

    private static String forSeries(Labels labels) {
        return labels == null ? "" : " for " + labels.toShortString();
    }

    /**
     * The oldest timestamp retention keeps: the newest sample's time, bounded by the clock, minus
     * the retention. The clock bound means one far-future sample (a timestamp in nanoseconds,
     * accepted with the future bound lifted) cannot move the floor past every real sample and
     * have retention delete them (issue 8, point 4).
     */
    private long retentionFloor() {
        long m = maxTime.get();
        if (m > clockSeen) { // min(newest, now) is the newest when the newest is at or below a clock value seen
            m = Math.min(m, readClock());
        }
        if (m == Long.MIN_VALUE || m < Long.MIN_VALUE + retentionMillis) {
            return Long.MIN_VALUE;
        }
        return m - retentionMillis;
    }

    /** Reads the store's clock (epoch ms) and remembers the value for the cheap paths above. */
    private long readClock() {
        long now = options.clock().getAsLong();
        clockSeen = now;
        return now;
    }

    void checkOpen() {
        if (closed) {
            throw new StoreClosedException("store " + dir + " is closed");
        }
    }

    /**
     * Hands buffered WAL records to the OS (and fsyncs them in SYNC_BATCH): after it returns, every
     * sample acknowledged before the call survives a kill of the process. Shards that refuse writes
     * ({@link io.tsdb.wal.ShardFailedException}) are skipped.
     *
     * @throws StoreClosedException if the store is closed
     * @throws ReadOnlyStoreException if the store was opened with {@link #openReadOnly}
     * @throws IOException          if a shard's write-out failed (the first failure, later ones
     *                              suppressed), e.g. {@link io.tsdb.wal.StorageFullException}
     */
    @Override
    public void flush() throws IOException {
        lifecycle.readLock().lock();
        try {
            checkOpen();
            checkWritable("flush");
            wal.flush();
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    // ====================================================================== reading

    /**
     * Refs of the series having label {@code name=value}; empty bitmap if none. A fresh copy the caller may modify.
     *
     * @param name  label name
     * @param value label value
     * @return the series refs, a new bitmap
     * @throws NullPointerException if {@code name} or {@code value} is null
     * @throws StoreClosedException if the store is closed
     */
    public RoaringBitmap postings(String name, String value) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        checkOpen();
        RoaringBitmap out = new RoaringBitmap();
        for (HeadPartition p : parts) {
            p.postingsInto(name, value, out);
        }
        return out;
    }

    /**
     * Refs of every series. A fresh copy the caller may modify.
     *
     * @return the series refs, a new bitmap
     * @throws StoreClosedException if the store is closed
     */
    public RoaringBitmap allPostings() {
        checkOpen();
        RoaringBitmap out = new RoaringBitmap();
        for (HeadPartition p : parts) {
            p.allInto(out);
        }
        return out;
    }

    /**
     * All label names, sorted.
     *
     * @return an immutable sorted list
     * @throws StoreClosedException if the store is closed
     */
    public List<String> labelNames() {
        checkOpen();
        TreeSet<String> names = new TreeSet<>();
        for (HeadPartition p : parts) {
            p.labelNamesInto(names);
        }
        return List.copyOf(names);
    }

    /**
     * All values of a label, sorted; empty if none.
     *
     * @param name label name
     * @return an immutable sorted list
     * @throws NullPointerException if {@code name} is null
     * @throws StoreClosedException if the store is closed
     */
    public List<String> labelValues(String name) {
        Objects.requireNonNull(name, "name");
        checkOpen();
        TreeSet<String> values = new TreeSet<>();
        for (HeadPartition p : parts) {
            p.labelValuesInto(name, values);
        }
        return List.copyOf(values);
    }

    /**
     * Labels of a series; null if the ref is unknown (e.g. removed by retention).
     *
     * @param ref a series ref (from {@link #postings}, {@link #allPostings} or {@link #seriesRef})
     * @return the labels, or null
     * @throws StoreClosedException if the store is closed
     */
    public Labels seriesLabels(int ref) {
        checkOpen();
        MemSeries s = seriesByRef(ref);
        return s == null || s.removed ? null : s.labels;
    }

    /**
     * The ref of the series with exactly these labels, or -1 if there is none.
     *
     * @param labels the complete label set
     * @return the ref, or -1
     * @throws NullPointerException if {@code labels} is null
     * @throws StoreClosedException if the store is closed
     */
    public int seriesRef(Labels labels) {
        Objects.requireNonNull(labels, "labels");
        checkOpen();
        long h = hashFn.applyAsLong(labels);
        return parts[wal.shardFor(h)].refOf(labels, h);
    }

    /**
     * Lazy iterator over a series' samples with {@code mint <= t <= maxt} (empty when the ref is unknown or
     * {@code mint > maxt}). It reads a snapshot of the chunk list and is safe while writers append.
     * The iterator itself is for one thread.
     *
     * @param ref  a series ref
     * @param mint lower bound, inclusive, in ms since the epoch
     * @param maxt upper bound, inclusive, in ms since the epoch
     * @return the samples in timestamp order
     * @throws StoreClosedException if the store is closed
     */
    public SampleIterator iterator(int ref, long mint, long maxt) {
        checkOpen();
        MemSeries s = seriesByRef(ref);
        if (s == null || s.removed || mint > maxt) {
            return SampleIterator.EMPTY;
        }
        return new SeriesIterator(s.chunks, mint, maxt);
    }

    /**
     * Monotonic counter that changes whenever a series is added or removed (so query-side caches
     * of postings can be invalidated). Does not check that the store is open.
     *
     * @return the current generation
     */
    public long seriesGeneration() {
        return generation.get();
    }

    /** {@return the store directory given to {@link #open}} Works after close. */
    @Override
    public Path directory() {
        return dir;
    }

    /** {@return the options the store was opened with} Works after close. */
    public StorageOptions options() {
        return options;
    }

    /** {@return the number of WAL shards (head partitions), fixed when the store was created} Works after close. */
    public int shards() {
        return shardCount;
    }

    // ====================================================================== stats

    /**
     * A snapshot of the store's figures.
     *
     * @return the figures at the time of the call
     * @throws StoreClosedException if the store is closed
     */
    @Override
    public StorageStats stats() {
        checkOpen();
        long series = 0;
        long samples = 0;
        long chunks = 0;
        long bytes = 0;
        List<StorageStats.Shard> perShard = new ArrayList<>(shardCount);
        for (HeadPartition p : parts) {
            long pb = 0;
            for (MemSeries s : p.seriesArray()) {
                if (s != null) {
                    for (Chunk c : s.chunks) {
                        pb += c.sizeBytes();
                    }
                }
            }
            long next;
            try {
                next = wal.nextOffset(p.shard);
            } catch (RuntimeException e) {
                next = -1;
            }
            perShard.add(new StorageStats.Shard(
                    p.shard, p.numSeries, p.numSamples, p.numChunks, pb, next, lastCheckpointOffset[p.shard]));
            series += p.numSeries;
            samples += p.numSamples;
            chunks += p.numChunks;
            bytes += pb;
        }
        WalStats ws;
        try {
            ws = wal.stats();
        } catch (RuntimeException e) {
            ws = null;
        }
        StorageStats.Checkpoint ck = new StorageStats.Checkpoint(
                checkpointsLoaded,
                checkpointLoadedSamples,
                checkpointLoadSeconds,
                List.copyOf(checkpointProblems),
                checkpointsWritten,
                lastCheckpointSeconds,
                lastCheckpointBytes,
                lastCheckpointTime);
        return new StorageStats(
                shardCount,
                series,
                samples,
                chunks,
                bytes,
                samples > 0 ? (double) bytes / samples : 0,
                safeWalBytes(),
                written.sum(),
                rejected.sum(),
                discarded.sum(),
                generation.get(),
                replayStats,
                ck,
                ws,
                List.copyOf(perShard));
    }

    private long safeWalBytes() {
        try {
            return wal.diskBytes();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /**
     * The last error of the background maintenance (checkpoint, retention) or of the head chunk
     * log writer, or null; background errors are never thrown to callers.
     *
     * @return the error, or null
     */
    public Throwable lastMaintenanceError() {
        return lastMaintenanceError;
    }

    // ====================================================================== checkpoints, retention

    /**
     * Writes a checkpoint of every shard now and truncates the WAL below the previous ones. Shards
     * with nothing new since their last checkpoint are skipped. Waits for a checkpoint in progress.
     *
     * @throws StoreClosedException if the store is closed
     * @throws ReadOnlyStoreException if the store was opened with {@link #openReadOnly}
     * @throws IOException          if the WAL could not be synced ({@link io.tsdb.wal.DurabilityException},
     *                              {@link io.tsdb.wal.StorageFullException}) or a checkpoint file not
     *                              written; the WAL still holds everything
     */
    @Override
    public void checkpoint() throws IOException {
        lifecycle.readLock().lock();
        try {
            checkOpen();
            checkWritable("checkpoint");
            checkpointAll();
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private void checkpointAll() throws IOException {
        synchronized (checkpointLock) {
            long t0 = System.nanoTime();
            List<Checkpoints.PartitionSnapshot> snaps = new ArrayList<>();
            for (int i = 0; i < shardCount; i++) {
                Checkpoints.PartitionSnapshot snap = snapshotShard(i, false);
                if (snap != null) {
                    snaps.add(snap);
                }
            }
            long bytes = 0;
            if (!snaps.isEmpty()) {
                // the records the checkpoints cover must be durable before they replace them
                wal.sync();
                for (Checkpoints.PartitionSnapshot snap : snaps) {
                    bytes += publish(snap);
                }
            }
            lastCheckpointNanos = System.nanoTime();
            walBytesAtCheckpoint = safeWalBytes();
            if (!snaps.isEmpty()) {
                checkpointsWritten++;
                lastCheckpointSeconds = (System.nanoTime() - t0) / 1e9;
                lastCheckpointBytes = bytes;
                lastCheckpointTime = System.currentTimeMillis();
            }
        }
    }

    /** Snapshot of a shard under its lock, or null when it has nothing new since its last checkpoint. */
    private Checkpoints.PartitionSnapshot snapshotShard(int shard, boolean force) {
        return parts[shard].snapshot(() -> wal.nextOffset(shard), force ? Long.MIN_VALUE : lastCheckpointOffset[shard]);
    }

    /**
     * Writes a snapshot, keeps the newest two, and lets the WAL drop what both cover. Returns bytes written.
     *
     * <p>Checkpoints stating an offset beyond this one are stale: the WAL lost its tail (media damage)
     * and its offsets restart below them. They are deleted once the new checkpoint is durable, and
     * before pruning, so that "the newest two" never means two stale files whose deletion would then
     * leave no checkpoint at all (issue 8, point 5), and the WAL is never truncated past its end.
     */
    private long publish(Checkpoints.PartitionSnapshot snap) throws IOException {
        int shard = snap.shard();
        Path sd = Checkpoints.shardDir(dir.resolve("checkpoints"), shard);
        long size = Checkpoints.write(sd, snap);
        lastCheckpointOffset[shard] = snap.walOffset();
        Checkpoints.deleteBeyond(sd, snap.walOffset());
        long keepFrom = Checkpoints.prune(sd);
        if (keepFrom > 0) {
            wal.truncateBefore(shard, keepFrom);
        }
        if (chunkLog != null) {
            chunkLog.covered(shard, snap.walOffset());
        }
        return size;
    }

    /** Checkpoints one shard now (used on open to repair a checkpoint beyond the WAL's end). */
    private void checkpointShard(int shard, boolean force) throws IOException {
        Checkpoints.PartitionSnapshot snap = snapshotShard(shard, force);
        if (snap != null) {
            wal.sync();
            publish(snap);
        }
    }

    /** Tests: writes a checkpoint of one shard in a given format version. */
    void writeCheckpointForTest(int shard, int version) throws IOException {
        Checkpoints.PartitionSnapshot snap = snapshotShard(shard, true);
        wal.sync();
        Checkpoints.write(Checkpoints.shardDir(dir.resolve("checkpoints"), shard), snap, version);
    }

    /**
     * Drops chunks and series older than the retention now (the background maintenance also does
     * this). Does not check that the store is open.
     *
     * @return the number of series removed; 0 when {@link StorageOptions#retention()} is zero
     */
    public int applyRetention() {
        if (retentionMillis <= 0) {
            return 0;
        }
        long floor = retentionFloor();
        if (floor == Long.MIN_VALUE) {
            return 0;
        }
        int removed = 0;
        for (HeadPartition p : parts) {
            removed += p.applyRetention(floor);
        }
        lastRetentionNanos = System.nanoTime();
        return removed;
    }

    private void startMaintenance() {
        boolean periodic =
                !options.checkpointInterval().isZero() || options.checkpointWalBytes() > 0 || retentionMillis > 0;
        if (!periodic) {
            return;
        }
        maintenance = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tsdb-maintenance");
            t.setDaemon(true);
            return t;
        });
        long tick = Math.max(
                100,
                Math.min(
                        5_000,
                        options.checkpointInterval().isZero()
                                ? 5_000
                                : options.checkpointInterval().toMillis() / 4));
        maintenance.scheduleWithFixedDelay(this::maintain, tick, tick, TimeUnit.MILLISECONDS);
    }

    private void maintain() {
        lifecycle.readLock().lock();
        try {
            if (closed) {
                return;
            }
            long now = System.nanoTime();
            if (retentionMillis > 0
                    && now - lastRetentionNanos
                            >= Math.min(60_000, Math.max(1_000, retentionMillis / 10)) * 1_000_000L) {
                applyRetention();
            }
            boolean due = !options.checkpointInterval().isZero()
                    && now - lastCheckpointNanos >= options.checkpointInterval().toNanos();
            if (!due && options.checkpointWalBytes() > 0) {
                due = safeWalBytes() - walBytesAtCheckpoint >= options.checkpointWalBytes();
            }
            if (due) {
                checkpointAll();
            }
        } catch (Throwable t) {
            lastMaintenanceError = t;
            LOG.log(System.Logger.Level.WARNING, "background maintenance of " + dir + " failed", t);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    // ====================================================================== close

    /**
     * Flushes the WAL, writes a checkpoint of every shard (unless disabled), releases the directory
     * lock and closes (a read-only store only closes its WAL). Samples still buffered in open
     * {@link Appender}s are discarded (counted in
     * {@link StorageStats#samplesDiscarded()}, logged). Idempotent;
     * later calls on the store throw {@link StoreClosedException} (except those listed in the class
     * comment). Waits up to 60 s each for background maintenance and the chunk log writer to stop.
     * The WAL is closed even when an earlier step failed.
     *
     * @throws IOException if flushing, the head chunk log, the checkpoint or closing the WAL failed
     *                     (the first failure; later ones suppressed); the store is closed anyway
     */
    @Override
    public void close() throws IOException {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        lifecycle.writeLock().lock();
        try {
            closed = true;
        } finally {
            lifecycle.writeLock().unlock();
        }
        long abandoned = 0;
        synchronized (openAppenders) {
            for (Appender a : openAppenders) {
                abandoned += a.pending();
            }
            openAppenders.clear();
        }
        if (abandoned > 0) {
            discarded.add(abandoned);
            LOG.log(
                    System.Logger.Level.WARNING,
                    "close of " + dir + ": " + abandoned + " samples appended but never "
                            + "committed were discarded (commit appenders before closing the store)");
        }
        if (maintenance != null) {
            maintenance.shutdown();
            try {
                maintenance.awaitTermination(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (chunkLog != null) {
            chunkLog.stopThread();
        }
        IOException failure = null;
        try {
            if (!readOnly) { // a read-only store has nothing to flush or checkpoint
                wal.flush();
                if (chunkLog != null) {
                    persistSealedChunks();
                }
                if (options.checkpointOnClose()) {
                    checkpointAll();
                }
            }
            if (chunkLog != null) {
                chunkLog.close();
            }
        } catch (IOException e) {
            failure = e;
        } finally {
            try {
                wal.close();
            } catch (IOException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
            if (lock != null) {
                try {
                    lock.close();
                } catch (IOException e) {
                    if (failure == null) {
                        failure = e;
                    } else {
                        failure.addSuppressed(e);
                    }
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
