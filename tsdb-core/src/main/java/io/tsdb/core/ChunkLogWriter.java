package io.tsdb.core;

import io.tsdb.wal.ShardedWAL;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The writing side of a store's head chunk log ({@link HeadChunkLog}, docs/head-chunks-format.md):
 * one {@link HeadChunkLog.Writer} per shard, and the {@code tsdb-chunk-writer} thread that moves
 * the chunks the partitions seal into them.
 *
 * <p>Every {@link #PERIOD_NANOS} (or sooner, when a partition has {@link #WAKE_QUEUED} sealed
 * chunks queued) the thread takes each partition's queue, notes the WAL's end (every sample of
 * those chunks lies below it), makes the WAL write out everything appended so far, then appends
 * the chunks. Errors are counted and logged with backoff, never thrown: the log is a cache of the
 * WAL, and a missing record only means that a restart re-encodes those samples.
 *
 * <p>Thread-safety: {@link #load} runs on the open's loader threads (one per shard) before
 * {@link #start}; {@link #persist} is serialised on this object; the writers are thread-safe.
 */
final class ChunkLogWriter {
    private static final System.Logger LOG = System.getLogger(ChunkLogWriter.class.getName());

    /** Directory of the head chunk log under the store. */
    static final String DIR = "chunks_head";
    /** The thread wakes at least this often. */
    static final long PERIOD_NANOS = 100_000_000L;
    /** A partition with this many sealed chunks queued wakes the thread at once. */
    static final int WAKE_QUEUED = 4096;

    private final Path storeDir;
    private final Path root;
    private final HeadPartition[] parts;
    private final ShardedWAL wal;
    private final boolean outOfOrderWindow;
    private final HeadChunkLog.Writer[] writers;
    private final Consumer<Throwable> onError;
    private Thread thread;
    private volatile boolean stop;
    private long errors; // guarded by this

    /**
     * @param outOfOrderWindow the store accepts late samples: its files are flagged from the start
     * @param onError          told of each write failure (the store's last maintenance error)
     */
    ChunkLogWriter(
            Path storeDir,
            HeadPartition[] parts,
            ShardedWAL wal,
            boolean outOfOrderWindow,
            Consumer<Throwable> onError) {
        this.storeDir = storeDir;
        this.root = storeDir.resolve(DIR);
        this.parts = parts;
        this.wal = wal;
        this.outOfOrderWindow = outOfOrderWindow;
        this.writers = new HeadChunkLog.Writer[parts.length];
        this.onError = onError;
        for (HeadPartition p : parts) {
            p.onSealedBacklog(WAKE_QUEUED, this::wake);
        }
    }

    /**
     * Open, one loader thread per shard: loads the shard's files (records not covered by the
     * checkpoint at {@code ckOffset}, within the recovered WAL), attaches what fits to its
     * partition, reports what was damaged or stale into {@code problems}, and opens the shard's
     * writer after the files kept.
     */
    void load(int shard, long ckOffset, List<String> problems) throws IOException {
        HeadChunkLog.Loaded l = HeadChunkLog.load(root, shard, parts.length, wal.nextOffset(shard), ckOffset);
        for (String problem : l.problems) {
            problems.add(problem);
            LOG.log(System.Logger.Level.WARNING, problem);
        }
        parts[shard].attachLoaded(l);
        writers[shard] = new HeadChunkLog.Writer(root, shard, parts.length, outOfOrderWindow, l.files);
    }

    /** With the log off: deletes a shard's files left by an earlier open (they are ours). */
    static void deleteShard(Path storeDir, int shard) throws IOException {
        Path sd = HeadChunkLog.shardDir(storeDir.resolve(DIR), shard);
        for (long seq : HeadChunkLog.list(sd)) {
            Files.deleteIfExists(HeadChunkLog.file(sd, seq));
        }
    }

    /** After replay: the shard's replay inserted late samples, so the files written from now on are flagged. */
    void markOutOfOrder(int shard) throws IOException {
        writers[shard].markOutOfOrder();
    }

    /** Starts the {@code tsdb-chunk-writer} thread. */
    void start() {
        Thread t = new Thread(
                () -> {
                    while (!stop) {
                        LockSupport.parkNanos(this, PERIOD_NANOS);
                        if (stop) {
                            break;
                        }
                        persist();
                    }
                },
                "tsdb-chunk-writer");
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    /** Wakes the thread early (a partition's queue is long; called under that partition's lock). */
    private void wake() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /** Moves the chunks sealed since the last call to the log (see the class comment). Never throws. */
    synchronized void persist() {
        HeadPartition.Sealed[] drained = new HeadPartition.Sealed[parts.length];
        long[] walEnd = new long[parts.length];
        boolean any = false;
        for (int i = 0; i < parts.length; i++) {
            drained[i] = parts[i].takeSealed();
            if (drained[i] != null) {
                walEnd[i] = wal.nextOffset(i);
                any = true;
            }
        }
        if (!any) {
            return;
        }
        try {
            wal.flush();
            for (int i = 0; i < parts.length; i++) {
                HeadPartition.Sealed d = drained[i];
                if (d != null) {
                    writers[i].append(d.refs(), d.prev(), d.chunks(), d.n(), walEnd[i]);
                }
            }
        } catch (IOException | RuntimeException e) {
            onError.accept(e);
            if (errors++ == 0 || Long.bitCount(errors) == 1) { // the 1st, 2nd, 4th, 8th, ... failure
                LOG.log(
                        System.Logger.Level.WARNING,
                        "head chunk log of " + storeDir + ": write failed (" + errors
                                + " so far; a restart re-encodes those chunks from the WAL): " + e);
            }
        }
    }

    /** A checkpoint covering every WAL record of {@code shard} below {@code walOffset} was published. */
    void covered(int shard, long walOffset) throws IOException {
        HeadChunkLog.Writer w = writers[shard];
        if (w != null) {
            w.covered(walOffset);
        }
    }

    /** Stops the thread and waits for it (at most a minute). */
    void stopThread() {
        Thread t = thread;
        if (t == null) {
            return;
        }
        stop = true;
        LockSupport.unpark(t);
        try {
            t.join(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Closes the shards' current files. */
    void close() throws IOException {
        for (HeadChunkLog.Writer w : writers) {
            if (w != null) {
                w.close();
            }
        }
    }
}
