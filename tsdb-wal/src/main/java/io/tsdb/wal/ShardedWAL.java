package io.tsdb.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import java.util.zip.CRC32C;

/**
 * A write-ahead log of byte records split into N independent shards. A record is routed by a
 * 64-bit key to {@code shardFor(key) = mix(key) mod N}; all records of one key live in one shard
 * in append order. Thread-safe.
 *
 * <p>API CONTRACT (frozen; other modules code against it):
 * <ul>
 *   <li>{@link #open(Path, WalOptions)} recovers every shard (see {@link #recoveryReport()}).</li>
 *   <li>{@link #append(long, ByteBuffer, long)} appends one record; returns its offset in its
 *       shard once acknowledged according to the options' durability.</li>
 *   <li>{@link #appendBatch(int, List, long, long)} appends many records to one shard with one
 *       acknowledgement; returns the offset of the last one.</li>
 *   <li>{@link #replay(IntFunction, long[], int)} replays all shards in parallel.</li>
 * </ul>
 *
 * <p>Failures (docs/durability.md): a failed or short write fails its batch only (the offsets
 * become a gap; ASYNC keeps the acknowledged records and retries), {@link StorageFullException}
 * on a full device (writes resume once space is freed), {@link DurabilityException} when an fsync
 * failed (the segment is sealed, the shard goes on in a new one), {@link ShardFailedException}
 * only when a shard cannot go on at all.
 *
 * <p>Threads: a flusher (ASYNC write-outs after the flush interval; it never fsyncs) and a sync
 * thread (periodic syncs, the completion of ASYNC segment rolls).</p>
 *
 * <p>Read-only ({@link WalOptions#readOnly()}): {@link #open} changes nothing on disk and starts
 * neither thread; it may run beside a writer process. {@link #replay} reads the prefix a writable
 * recovery would keep, as it was at the open; {@link #append}, {@link #appendBatch},
 * {@link #flush}, {@link #sync} and {@link #truncateBefore} throw {@link WalReadOnlyException}.</p>
 */
public final class ShardedWAL implements AutoCloseable {
    static final String META = "wal.meta";
    static final String META_TMP = "wal.meta.tmp";
    static final int META_MAGIC = 0x54574D54; // "TWMT"
    static final int META_VERSION = 1;

    private final Path dir;
    private final WalOptions options;
    private final WALShard[] shards;
    private final RecoveryReport report;
    /** Null when read-only. */
    private final Thread flusher;
    /**
     * The log's sync thread: periodic syncs and the completion of ASYNC segment rolls (their
     * fsyncs), kept off the flusher so that the ASYNC write-out never waits for an fsync. Null
     * when read-only.
     */
    private final ScheduledThreadPoolExecutor syncer;

    private volatile boolean closed;
    private volatile double lastReplaySeconds;
    private volatile long lastReplayRecords, lastReplayBytes;

    private ShardedWAL(
            Path dir,
            WalOptions options,
            WALShard[] shards,
            RecoveryReport report,
            ScheduledThreadPoolExecutor syncer) {
        this.dir = dir;
        this.options = options;
        this.shards = shards;
        this.report = report;
        this.syncer = syncer;
        if (options.readOnly()) {
            this.flusher = null;
        } else {
            this.flusher = new Thread(this::flushLoop, "tsdb-wal-flusher-" + dir.getFileName());
            this.flusher.setDaemon(true);
        }
    }

    private static ScheduledThreadPoolExecutor newSyncer(Path dir) {
        ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "tsdb-wal-sync-" + dir.getFileName());
            t.setDaemon(true);
            return t;
        });
        ex.setRemoveOnCancelPolicy(true);
        ex.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        ex.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        return ex;
    }

    /**
     * Opens (creating if needed) the log in {@code dir}, recovering every shard. With
     * {@link WalOptions#readOnly()} it creates and changes nothing: it fails with
     * {@link NoSuchFileException} if {@code dir} does not exist, and recovers in memory only.
     */
    public static ShardedWAL open(Path dir, WalOptions options) throws IOException {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(options, "options");
        if (options.readOnly()) return openReadOnly(dir, options);
        Files.createDirectories(dir);
        Disk disk = options.disk();
        BlockCodec.preloadAsync(); // starts the LZ4 library load early (see BlockCodec.Lz4)
        int n = resolveShardCount(dir, options, disk, true);
        RecoveryReport report = new RecoveryReport();
        WALShard[] shards = new WALShard[n];
        ScheduledThreadPoolExecutor syncer = newSyncer(dir);
        try {
            recoverShards(
                    dir,
                    options,
                    report,
                    shards,
                    si -> WALShard.open(
                            si,
                            dir,
                            options,
                            report,
                            options.rollExecutor() != null ? options.rollExecutor() : syncer));
        } catch (IOException | RuntimeException e) {
            syncer.shutdownNow();
            throw e;
        }
        ShardedWAL wal = new ShardedWAL(dir, options, shards, report, syncer);
        wal.flusher.start();
        if (options.periodicSync() != null) {
            long t = options.periodicSync().toNanos();
            syncer.scheduleWithFixedDelay(wal::periodicSyncAll, t, t, TimeUnit.NANOSECONDS);
        }
        return wal;
    }

    /** The read-only open (see {@link WalOptions.Builder#readOnly(boolean)}): no write, no background thread. */
    private static ShardedWAL openReadOnly(Path dir, WalOptions options) throws IOException {
        if (!Files.isDirectory(dir)) {
            if (Files.exists(dir)) throw new NotDirectoryException(dir.toString());
            throw new NoSuchFileException(
                    dir.toString(), null, "WAL directory does not exist (a read-only open creates nothing)");
        }
        BlockCodec.preloadAsync();
        int n = resolveShardCount(dir, options, options.disk(), false);
        RecoveryReport report = new RecoveryReport();
        WALShard[] shards = new WALShard[n];
        recoverShards(dir, options, report, shards, si -> WALShard.openReadOnly(si, dir, options, report));
        return new ShardedWAL(dir, options, shards, report, null);
    }

    /** Opens one shard (recovering it). */
    @FunctionalInterface
    private interface ShardOpener {
        WALShard open(int shard) throws IOException;
    }

    /**
     * Recovers every shard in parallel into {@code shards}; a shard that cannot be read is
     * reported and kept as unreadable (strict: its corruption fails the open). On failure, closes
     * the shards it opened.
     */
    private static void recoverShards(
            Path dir, WalOptions options, RecoveryReport report, WALShard[] shards, ShardOpener opener)
            throws IOException {
        int n = shards.length;
        int threads = Math.max(1, Math.min(n, 2 * Runtime.getRuntime().availableProcessors()));
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "tsdb-wal-recovery");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                final int si = i;
                fs.add(pool.submit(() -> {
                    try {
                        shards[si] = opener.open(si);
                    } catch (WalCorruptionException e) {
                        if (options.strict()) throw e;
                        shards[si] = WALShard.unreadable(si, dir, options, report, e);
                    } catch (IOException | RuntimeException e) {
                        shards[si] = WALShard.unreadable(si, dir, options, report, e);
                    }
                    return null;
                }));
            }
            WalCorruptionException strictFailure = null;
            for (Future<?> f : fs) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while recovering " + dir);
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof WalCorruptionException wc) {
                        if (strictFailure == null) strictFailure = wc;
                        else strictFailure.addSuppressed(wc);
                    } else if (c instanceof RuntimeException re) {
                        throw re;
                    } else if (c instanceof Error er) {
                        throw er;
                    } else {
                        throw new IOException("recovery of " + dir + " failed", c);
                    }
                }
            }
            if (strictFailure != null) throw strictFailure;
        } catch (IOException | RuntimeException e) {
            for (WALShard s : shards) {
                if (s != null) {
                    try {
                        s.close();
                    } catch (IOException | RuntimeException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
            }
            throw e;
        } finally {
            pool.shutdownNow();
        }
    }

    /** The shard count of the directory; {@code write}: also removes a leftover temp file and (re)writes wal.meta. */
    private static int resolveShardCount(Path dir, WalOptions options, Disk disk, boolean write) throws IOException {
        int requested = options.shards();
        Path meta = dir.resolve(META);
        if (write) Files.deleteIfExists(dir.resolve(META_TMP));
        Integer stored = null;
        if (Files.exists(meta)) {
            try {
                stored = readMeta(meta, disk);
            } catch (IOException e) {
                stored = null; // damaged: fall back on the shard directories, rewrite below
            }
        }
        if (stored == null) {
            int dirs = 0;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "shard-*")) {
                for (Path p : ds) if (Files.isDirectory(p)) dirs++;
            }
            if (dirs > 0) stored = dirs;
        }
        int n;
        if (stored != null) {
            if (requested != 0 && requested != stored)
                throw new IllegalArgumentException(
                        "WAL in " + dir + " has " + stored + " shards; it cannot be opened with " + requested
                                + " (use shards(0) or shards(" + stored + "))");
            n = stored;
        } else {
            n = requested != 0 ? requested : WalOptions.defaultShardCount();
        }
        if (write && (!Files.exists(meta) || stored == null || readMetaQuietly(meta, disk) != n))
            writeMeta(dir, n, disk);
        return n;
    }

    private static int readMetaQuietly(Path meta, Disk disk) {
        try {
            return readMeta(meta, disk);
        } catch (IOException e) {
            return -1;
        }
    }

    /** wal.meta (version 1, 16 bytes big-endian): int magic "TWMT", int version, int shard count, int CRC32C of the first 12 bytes. */
    private static int readMeta(Path meta, Disk disk) throws IOException {
        try (FileChannel ch = disk.open(meta, EnumSet.of(StandardOpenOption.READ))) {
            if (ch.size() != 16) throw new IOException("wal.meta has " + ch.size() + " bytes");
            ByteBuffer b = ByteBuffer.allocate(16);
            while (b.hasRemaining()) if (ch.read(b, b.position()) < 0) throw new IOException("short wal.meta");
            CRC32C crc = new CRC32C();
            crc.update(b.array(), 0, 12);
            if ((int) crc.getValue() != b.getInt(12)) throw new IOException("wal.meta CRC mismatch");
            if (b.getInt(0) != META_MAGIC) throw new IOException("wal.meta bad magic");
            if (b.getInt(4) != META_VERSION) throw new IOException("wal.meta unknown version " + b.getInt(4));
            int n = b.getInt(8);
            if (n < 1 || n > 4096) throw new IOException("wal.meta shard count " + n + " out of range");
            return n;
        }
    }

    private static void writeMeta(Path dir, int n, Disk disk) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16);
        b.putInt(META_MAGIC).putInt(META_VERSION).putInt(n);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 12);
        b.putInt((int) crc.getValue());
        b.flip();
        Path tmp = dir.resolve(META_TMP);
        try (FileChannel ch = disk.open(
                tmp,
                EnumSet.of(
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING))) {
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
        disk.moveAtomic(tmp, dir.resolve(META));
        disk.syncDirectory(dir);
    }

    /** The flusher: writes out batches older than the flush interval. It never fsyncs (see {@link #syncer}). */
    private void flushLoop() {
        long interval = options.flushInterval().toNanos();
        long tickNanos = Math.max(1_000_000L, interval / 2);
        while (!closed) {
            LockSupport.parkNanos(tickNanos);
            if (closed) break;
            long now = System.nanoTime();
            for (WALShard s : shards) {
                try {
                    s.tick(now, interval);
                } catch (RuntimeException e) {
                    // the shard records its own failure; keep serving the others
                }
            }
        }
    }

    /** periodicSync(t): fsyncs and anchors every shard with something new (on the sync thread). */
    private void periodicSyncAll() {
        for (WALShard s : shards) {
            if (closed) return;
            try {
                s.periodicSync();
            } catch (RuntimeException e) {
                // the shard records its own failure; keep serving the others
            }
        }
    }

    /** The directory of this log. */
    public Path directory() {
        return dir;
    }

    /** The options this log was opened with. */
    public WalOptions options() {
        return options;
    }

    /** Number of shards. Fixed for a directory: reopening with another count fails clearly. */
    public int shardCount() {
        return shards.length;
    }

    /** The mixing function applied to keys before the modulo (murmur3 fmix64). */
    public static long mix(long key) {
        key ^= key >>> 33;
        key *= 0xff51afd7ed558ccdL;
        key ^= key >>> 33;
        key *= 0xc4ceb9fe1a85ec53L;
        key ^= key >>> 33;
        return key;
    }

    /** The shard a key routes to: {@code mix(key) mod shardCount()}. */
    public int shardFor(long key) {
        long m = mix(key);
        int n = shards.length;
        // unsigned mod of a power of two is a mask (same result, no 64-bit division)
        return (n & (n - 1)) == 0 ? (int) (m & (n - 1)) : (int) Long.remainderUnsigned(m, n);
    }

    private WALShard shardChecked(int index) {
        if (index < 0 || index >= shards.length)
            throw new IllegalArgumentException("shard " + index + " out of range 0.." + (shards.length - 1));
        return shards[index];
    }

    /** Direct access to a shard. */
    public WALShard shard(int index) {
        return shardChecked(index);
    }

    private void checkOpen() {
        if (closed) throw new WalClosedException("WAL " + dir + " is closed");
    }

    private void checkWritable(String call) {
        if (options.readOnly()) throw new WalReadOnlyException(call + ": WAL " + dir + " was opened read-only");
        checkOpen();
    }

    /** True if this log was opened with {@link WalOptions#readOnly()}. */
    public boolean readOnly() {
        return options.readOnly();
    }

    /**
     * Appends one record routed by {@code key}; {@code attribute} is a caller-supplied 64-bit
     * value (e.g. a timestamp) whose min/max is kept per block. Returns the record's offset.
     */
    public long append(long key, ByteBuffer record, long attribute) throws IOException {
        Objects.requireNonNull(record, "record");
        checkWritable("append");
        return shards[shardFor(key)].append(record, attribute);
    }

    /**
     * Appends records to one shard, acknowledged once (all or nothing from the caller's point of
     * view: the records are contiguous in the shard). Returns the offset of the last record.
     */
    public long appendBatch(int shard, List<ByteBuffer> records, long minAttribute, long maxAttribute)
            throws IOException {
        WALShard s = shardChecked(shard);
        Objects.requireNonNull(records, "records");
        checkWritable("appendBatch");
        return s.appendBatch(records, minAttribute, maxAttribute);
    }

    /**
     * Writes out every shard's pending batch and waits for it per the durability mode (fsync in
     * SYNC_BATCH). Skips shards that refuse writes. Throws the failure of a write-out
     * ({@link StorageFullException} on a full device; the records stay buffered in ASYNC); a shard
     * that turns read-only during the call ends it at once with {@link ShardFailedException}.
     */
    public void flush() throws IOException {
        checkWritable("flush");
        IOException first = null;
        for (WALShard s : shards) {
            if (s.failed()) continue;
            try {
                s.flush();
            } catch (ShardFailedException e) {
                // a shard that failed meanwhile ends the call at once, as when this was unchecked
                if (first != null) e.addSuppressed(first);
                throw e;
            } catch (IOException e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        if (first != null) throw first;
    }

    /**
     * Writes out and fsyncs every shard (and updates each anchor); a normal return means every
     * record acknowledged before the call is durable. Throws {@link DurabilityException} if an
     * fsync failed (also one that failed in the background since the last call: the records
     * acknowledged since the last successful sync may not be durable), {@link StorageFullException}
     * on a full device. Skips shards that refuse writes; a shard that turns read-only during the
     * call ends it at once with {@link ShardFailedException}.
     */
    public void sync() throws IOException {
        checkWritable("sync");
        IOException first = null;
        for (WALShard s : shards) {
            if (s.failed()) continue;
            try {
                s.sync();
            } catch (ShardFailedException e) {
                // a shard that failed meanwhile ends the call at once, as when this was unchecked
                if (first != null) e.addSuppressed(first);
                throw e;
            } catch (IOException e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        if (first != null) throw first;
    }

    /**
     * Replays all shards in parallel with at most {@code parallelism} threads; shard i's records
     * (offset >= fromOffsets[i], or all if fromOffsets is null) go in offset order to
     * {@code handlers.apply(i)}, on one thread per shard. Returns timing and counts.
     */
    public ReplayResult replay(IntFunction<RecordHandler> handlers, long[] fromOffsets, int parallelism)
            throws IOException {
        Objects.requireNonNull(handlers, "handlers");
        if (fromOffsets != null && fromOffsets.length != shards.length)
            throw new IllegalArgumentException(
                    "fromOffsets has " + fromOffsets.length + " entries, expected " + shards.length);
        if (parallelism < 1) throw new IllegalArgumentException("parallelism must be >= 1, got " + parallelism);
        checkOpen();
        long t0 = System.nanoTime();
        int threads = Math.min(parallelism, shards.length);
        AtomicInteger tn = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "tsdb-wal-replay-" + tn.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<ReplayResult>> fs = new ArrayList<>();
            for (int i = 0; i < shards.length; i++) {
                final int si = i;
                final long from = fromOffsets == null ? 0 : fromOffsets[i];
                fs.add(pool.submit(() -> {
                    RecordHandler h = handlers.apply(si);
                    if (h == null) throw new NullPointerException("handlers.apply(" + si + ") returned null");
                    return shards[si].replay(from, h);
                }));
            }
            long recs = 0, bytes = 0, blocks = 0;
            for (Future<ReplayResult> f : fs) {
                ReplayResult r;
                try {
                    r = f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    for (Future<ReplayResult> g : fs) g.cancel(true);
                    throw new java.io.InterruptedIOException("replay interrupted");
                } catch (ExecutionException e) {
                    for (Future<ReplayResult> g : fs) g.cancel(true);
                    Throwable c = e.getCause();
                    if (c instanceof IOException io) throw io;
                    if (c instanceof RuntimeException re) throw re;
                    if (c instanceof Error er) throw er;
                    throw new IOException("replay failed", c);
                }
                recs += r.records();
                bytes += r.rawBytes();
                blocks += r.blocks();
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            lastReplaySeconds = secs;
            lastReplayRecords = recs;
            lastReplayBytes = bytes;
            return new ReplayResult(recs, bytes, blocks, secs);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Deletes whole segments of {@code shard} whose records are all below {@code offset}. */
    public void truncateBefore(int shard, long offset) throws IOException {
        WALShard s = shardChecked(shard);
        if (offset < 0) throw new IllegalArgumentException("offset must be >= 0, got " + offset);
        checkWritable("truncateBefore");
        s.truncateBefore(offset);
    }

    /** The next offset that shard will assign (= number of records ever appended to it). */
    public long nextOffset(int shard) {
        return shardChecked(shard).nextOffset();
    }

    /** What recovery found and did on open (and damage found by later replays). */
    public RecoveryReport recoveryReport() {
        return report;
    }

    /** A snapshot of the instrumentation, per shard and in total. */
    public WalStats stats() {
        List<WalStats.ShardStats> l = new ArrayList<>(shards.length);
        for (WALShard s : shards) l.add(s.stats());
        return new WalStats(l, lastReplaySeconds, lastReplayRecords, lastReplayBytes);
    }

    /** Bytes of all segment files. */
    public long diskBytes() {
        long sum = 0;
        for (WALShard s : shards) sum += s.diskBytes();
        return sum;
    }

    /** True once {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /** Flushes and closes; idempotent. Appends after close throw {@link WalClosedException}. */
    @Override
    public synchronized void close() throws IOException {
        if (closed) return;
        closed = true;
        if (options.readOnly()) {
            for (WALShard s : shards) s.close(); // marks them closed; a read-only shard holds no open file
            return;
        }
        LockSupport.unpark(flusher);
        try {
            flusher.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // queued roll completions still run (each shard's close also completes its own); periodic syncs stop
        syncer.shutdown();
        IOException first = null;
        for (WALShard s : shards) {
            try {
                s.close();
            } catch (IOException e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        try {
            // never interrupt it: an interrupt closes the FileChannel it is forcing
            syncer.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (first != null) throw first;
    }

    @Override
    public String toString() {
        return "ShardedWAL{" + dir + ", shards=" + shards.length + "}";
    }
}
