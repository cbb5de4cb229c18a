package io.tsdb.wal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault injection at every point of a scripted workload (RELIABILITY.md §2.9 full disk, §2.10
 * fsync failure, §2.11 short and failed writes), in each durability mode.
 *
 * <p>The workload: one shard, 4 KiB segments (three rolls or more), 24 {@code appendBatch} calls
 * of 1–3 records (120–279 bytes, content a function of a sequence number so any other bits are
 * detected), a {@code sync()} after calls 8 and 16 and at the end, then {@code close()}; in ASYNC
 * a {@code flush()} after every call and the roll completions run (by the test, at fixed points)
 * after every call, so that every run is the same sequence of file operations.
 *
 * <p>The oracle: W = attempted records, A = acknowledged (the call returned), P = durability
 * promised (SYNC_BATCH: A; otherwise acknowledged before a {@code sync()} that returned normally,
 * minus everything since the last successful sync when a DurabilityException was reported).
 * Checked after every run, on the live log and after reopening: R ⊆ W bit-identical, in order
 * (phantom = 0), A ⊆ R without a power loss and P ⊆ R after one (lost = 0), and records whose call
 * failed (DurabilityException in SYNC_BATCH, StorageFullException or an I/O error in PAGE_CACHE
 * and SYNC_BATCH) are absent. Figures are printed, one line per test.
 */
class FaultInjectionTest {
    @TempDir
    Path tmp;

    static final int STEPS = 24;

    /** Record of sequence number {@code seq}: 8-byte seq, 4-byte length, then a pattern. */
    static byte[] content(long seq) {
        int len = 120 + (int) (seq * 37 % 160);
        byte[] a = new byte[len];
        ByteBuffer.wrap(a).putLong(0, seq).putInt(8, len);
        for (int i = 12; i < len; i++) a[i] = (byte) (seq * 31 + i * 7 + (i / 13));
        return a;
    }

    /** Runs queued tasks only when the test says so (deterministic ASYNC roll completions). */
    static final class QueueExecutor implements Executor {
        private final ArrayDeque<Runnable> q = new ArrayDeque<>();

        @Override
        public synchronized void execute(Runnable r) {
            q.add(r);
        }

        void runAll() {
            while (true) {
                Runnable r;
                synchronized (this) {
                    r = q.poll();
                }
                if (r == null) return;
                r.run();
            }
        }
    }

    /** What the writers of one run attempted and were told. */
    static final class Run {
        final Durability mode;
        final Map<Long, byte[]> attempted = new TreeMap<>();
        final Set<Long> acked = new TreeSet<>();
        final Set<Long> promised = new TreeSet<>();
        final List<Long> sincePromise = new ArrayList<>();
        /** Calls that failed: their records must be absent (PAGE_CACHE, SYNC_BATCH). */
        final Set<Long> failed = new TreeSet<>();

        int durabilityErrors, storageFullErrors, ioErrors, shardFailedErrors;
        long nextSeq;
        final List<String> unexpected = new ArrayList<>();

        Run(Durability mode) {
            this.mode = mode;
        }

        void lostPromise() {
            sincePromise.clear();
        }
    }

    /** What a replay returned, checked against the attempts. */
    static final class Replayed {
        final Map<Long, byte[]> bySeq = new HashMap<>();
        int phantoms;
        final List<String> problems = new ArrayList<>();
    }

    static WalOptions.Builder options(Durability mode, FaultyDisk disk, Executor rolls) {
        return WalOptions.builder()
                .shards(1)
                .durability(mode)
                .segmentBytes(4096)
                .disk(disk)
                .flushInterval(Duration.ofHours(1))
                .rollExecutor(rolls);
    }

    static Replayed collect(ShardedWAL wal, Run r) throws IOException {
        Replayed out = new Replayed();
        long[] prev = {-1, -1};
        wal.replay(
                i -> (off, b) -> {
                    byte[] a = new byte[b.remaining()];
                    b.get(a);
                    long seq = a.length >= 8 ? ByteBuffer.wrap(a).getLong(0) : -1;
                    byte[] want = r.attempted.get(seq);
                    if (want == null || !Arrays.equals(want, a) || out.bySeq.containsKey(seq)) {
                        out.phantoms++;
                        out.problems.add("phantom at offset " + off + " (seq " + seq + ", " + a.length + " bytes)");
                        return;
                    }
                    if (off <= prev[0] || seq <= prev[1])
                        out.problems.add("out of order: offset " + off + " seq " + seq);
                    prev[0] = off;
                    prev[1] = seq;
                    out.bySeq.put(seq, a);
                },
                null,
                1);
        return out;
    }

    /** Checks a replay: no phantom, {@code mustHave} present, failed calls absent. Returns the lost count. */
    static int verify(String where, Run r, Replayed got, Set<Long> mustHave) {
        assertEquals(List.of(), got.problems, where);
        assertEquals(0, got.phantoms, where);
        int lost = 0;
        for (long s : mustHave) if (!got.bySeq.containsKey(s)) lost++;
        assertEquals(
                0,
                lost,
                where + ": lost " + lost + " of " + mustHave.size() + " records that must survive; got "
                        + new TreeSet<>(got.bySeq.keySet()) + ", failed " + r.failed);
        if (r.mode != Durability.ASYNC) {
            for (long s : r.failed)
                assertFalse(got.bySeq.containsKey(s), where + ": record " + s + " of a failed call is present");
        }
        return lost;
    }

    static void append(ShardedWAL wal, Run r, int step) {
        int k = 1 + step % 3;
        List<ByteBuffer> recs = new ArrayList<>();
        List<Long> seqs = new ArrayList<>();
        for (int j = 0; j < k; j++) {
            long seq = r.nextSeq++;
            byte[] c = content(seq);
            r.attempted.put(seq, c);
            recs.add(ByteBuffer.wrap(c));
            seqs.add(seq);
        }
        try {
            wal.appendBatch(0, recs, step, step);
            r.acked.addAll(seqs);
            if (r.mode == Durability.SYNC_BATCH) r.promised.addAll(seqs);
            else r.sincePromise.addAll(seqs);
        } catch (DurabilityException e) {
            assertEquals(0, e.shard());
            assertTrue(e.getMessage().contains("shard 0") && e.segment().endsWith(".log"), e.getMessage());
            r.durabilityErrors++;
            r.failed.addAll(seqs);
            r.lostPromise();
        } catch (StorageFullException e) {
            assertEquals(0, e.shard());
            assertTrue(e.getMessage().contains("shard 0") && e.getMessage().contains(e.file()), e.getMessage());
            r.storageFullErrors++;
            r.failed.addAll(seqs);
        } catch (ShardFailedException e) {
            r.shardFailedErrors++;
            r.failed.addAll(seqs);
            r.unexpected.add("append " + step + ": " + e);
        } catch (IOException e) {
            r.ioErrors++;
            r.failed.addAll(seqs);
        }
    }

    /** flush() or sync(): a normal return of sync() promises what was acknowledged before it. */
    static void durable(ShardedWAL wal, Run r, boolean sync, String what) {
        try {
            if (sync) {
                wal.sync();
                r.promised.addAll(r.sincePromise);
                r.sincePromise.clear();
            } else {
                wal.flush();
            }
        } catch (DurabilityException e) {
            assertEquals(0, e.shard());
            r.durabilityErrors++;
            r.lostPromise();
        } catch (StorageFullException e) {
            assertEquals(0, e.shard());
            assertTrue(e.getMessage().contains(e.file()), e.getMessage());
            r.storageFullErrors++;
        } catch (ShardFailedException e) {
            r.shardFailedErrors++;
            r.unexpected.add(what + ": " + e);
        } catch (IOException e) {
            r.ioErrors++;
        }
    }

    /**
     * After a fault hit during the script: one more append and a sync, which must succeed
     * (without a reopen). Not part of the dry run, so that close()'s own points are tested too.
     */
    static void probe(ShardedWAL wal, Run r, QueueExecutor rolls, String where) {
        append(wal, r, STEPS + 1);
        durable(wal, r, true, "probe sync");
        rolls.runAll();
        assertTrue(r.acked.contains(r.nextSeq - 1), where + ": the append after the fault failed");
        assertEquals(List.of(), r.unexpected, where);
    }

    interface StepHook {
        void after(int step) throws IOException;
    }

    /**
     * The scripted workload up to close(): 24 steps, then one more append and a sync (which show
     * that the shard still takes writes after the fault). {@code hook} runs after each step.
     */
    static void workload(ShardedWAL wal, Run r, QueueExecutor rolls, StepHook hook) throws IOException {
        for (int i = 0; i <= STEPS; i++) {
            append(wal, r, i);
            if (r.mode == Durability.ASYNC) durable(wal, r, false, "flush " + i);
            rolls.runAll();
            if (i == 7 || i == 15 || i == STEPS - 1 || i == STEPS) durable(wal, r, true, "sync " + i);
            rolls.runAll();
            hook.after(i);
        }
    }

    /** Fault points the workload meets from after open() to the end of close(), without faults. */
    private long dryRunPoints(Durability mode, boolean fsync) throws IOException {
        FaultyDisk disk = FaultyDisk.noSync();
        QueueExecutor rolls = new QueueExecutor();
        Path d = tmp.resolve("dry-" + mode + "-" + fsync);
        ShardedWAL wal = ShardedWAL.open(d, options(mode, disk, rolls).build());
        long f0 = disk.fsyncPoints.get(), s0 = disk.spacePoints.get();
        Run r = new Run(mode);
        workload(wal, r, rolls, step -> {});
        wal.close();
        assertEquals(List.of(), r.unexpected);
        assertEquals(0, r.durabilityErrors + r.storageFullErrors + r.ioErrors);
        assertTrue(
                wal.shard(0).segmentCount() >= 3,
                "the workload must roll: " + wal.shard(0).segmentCount());
        TestFiles.deleteTree(d);
        return fsync ? disk.fsyncPoints.get() - f0 : disk.spacePoints.get() - s0;
    }

    // =========================================================================================
    // §2.10 fsync failure
    // =========================================================================================

    @Test
    void fsyncFailureAtEveryFsyncPointSyncBatch() throws Exception {
        fsyncFailureAtEveryPoint(Durability.SYNC_BATCH);
    }

    @Test
    void fsyncFailureAtEveryFsyncPointPageCache() throws Exception {
        fsyncFailureAtEveryPoint(Durability.PAGE_CACHE);
    }

    @Test
    void fsyncFailureAtEveryFsyncPointAsync() throws Exception {
        fsyncFailureAtEveryPoint(Durability.ASYNC);
    }

    /**
     * force() (or a directory fsync) throws once, at each fsync point of the workload in turn;
     * later calls "succeed" but the failed file's unsynced bytes are dropped, zeroed or garbled in
     * the power-loss images. Pass: the batch's callers get DurabilityException (SYNC_BATCH), the
     * shard goes on (no ShardFailedException, later appends succeed), the failed file is never
     * written again, after every image every promised record is present and later segments kept,
     * strict mode opens every image, reopening twice is clean the second time.
     */
    private void fsyncFailureAtEveryPoint(Durability mode) throws Exception {
        long points = dryRunPoints(mode, true);
        long acked = 0, promised = 0, failedBatches = 0, images = 0, lost = 0, phantom = 0, durabilityErrors = 0;
        long sealedTails = 0, ackChecks = 0, promisedAfterFault = 0;
        Random rnd = new Random(mode.ordinal() * 7919L + 11);
        for (long n = 1; n <= points; n++) {
            String where = mode + " fsync point " + n;
            Path live = tmp.resolve(mode + "-fsync-" + n);
            Path shardDir = live.resolve("shard-000");
            FaultyDisk disk = FaultyDisk.noSync();
            QueueExecutor rolls = new QueueExecutor();
            Run r = new Run(mode);
            ShardedWAL wal = ShardedWAL.open(live, options(mode, disk, rolls).build());
            disk.failFsyncAt(n);
            long[] checks = {0};
            long[] firstSeqAfterFault = {-1};
            workload(wal, r, rolls, step -> {
                if (firstSeqAfterFault[0] < 0 && !disk.failedFsyncs.isEmpty()) firstSeqAfterFault[0] = r.nextSeq;
                if (mode == Durability.SYNC_BATCH) {
                    // every acknowledgement so far rests on fsynced bytes and names only
                    assertEquals(List.of(), disk.unsyncedSegments(shardDir), where + " after step " + step);
                    checks[0]++;
                }
            });
            assertEquals(List.of(), r.unexpected, where + ": " + disk.failedFsyncs);
            assertFalse(wal.shard(0).failed(), where);
            if (!disk.failedFsyncs.isEmpty()) probe(wal, r, rolls, where + " (" + disk.failedFsyncs + ")");
            assertEquals(0, disk.writesAfterFsyncFailure.get(), where + ": a file was written after its fsync failed");
            // only an fsync failed: no call fails any other way, and only SYNC_BATCH appends wait for an fsync
            assertEquals(0, r.storageFullErrors + r.ioErrors, where);
            if (mode != Durability.SYNC_BATCH) assertEquals(Set.of(), r.failed, where);
            else assertTrue(r.failed.size() <= 3, where + ": more than one batch failed: " + r.failed);
            lost += verify(where + " live", r, collect(wal, r), r.acked);
            if (firstSeqAfterFault[0] >= 0) {
                for (long x : r.promised) if (x >= firstSeqAfterFault[0]) promisedAfterFault++;
            }
            // power loss now (fsyncgate: the failed file's unsynced bytes dropped) and, by turns, zeroed,
            // garbled or a kill -9 (everything kept, unsynced names too)
            int[] tails = n % 2 == 1 ? new int[] {1} : new int[] {1, (int) (n / 2 % 3 == 0 ? 0 : n / 2 % 3 + 1)};
            for (int tail : tails) {
                Path image = tmp.resolve(mode + "-fsync-" + n + "-img" + tail);
                disk.powerLossImage(live, image, tail, tail == 0, rnd);
                try (ShardedWAL rec =
                        ShardedWAL.open(image, WalOptions.builder().strict(true).build())) {
                    assertEquals(List.of(), rec.recoveryReport().failedShards(), where);
                    Set<Long> must = tail == 0 ? r.acked : r.promised;
                    lost += verify(where + " image " + tail + " " + rec.recoveryReport(), r, collect(rec, r), must);
                    sealedTails += rec.recoveryReport().count(RecoveryReport.Kind.SEALED_TAIL_TRUNCATED);
                }
                images++;
                TestFiles.deleteTree(image);
            }
            try {
                wal.close();
            } catch (DurabilityException e) {
                r.durabilityErrors++; // the failed point was close()'s own fsync
                r.lostPromise();
            }
            assertEquals(1, disk.failedFsyncs.size(), where);
            assertEquals(0, disk.writesAfterFsyncFailure.get(), where + ": a file was written after its fsync failed");
            try (ShardedWAL rec = ShardedWAL.open(live, WalOptions.builder().build())) {
                RecoveryReport rep = rec.recoveryReport();
                assertEquals(
                        0,
                        rep.count(RecoveryReport.Kind.CORRUPT_BLOCK_SKIPPED)
                                + rep.count(RecoveryReport.Kind.CORRUPT_TAIL_TRUNCATED)
                                + rep.count(RecoveryReport.Kind.SHARD_UNREADABLE),
                        where + ": " + rep);
                lost += verify(where + " reopen", r, collect(rec, r), r.acked);
                sealedTails += rep.count(RecoveryReport.Kind.SEALED_TAIL_TRUNCATED);
            }
            if (n % 3 == 0)
                try (ShardedWAL rec = ShardedWAL.open(live, WalOptions.builder().build())) {
                    // recovery is idempotent: what the first reopen repaired stays repaired
                    assertTrue(rec.recoveryReport().clean(), where + " second reopen: " + rec.recoveryReport());
                    lost += verify(where + " second reopen", r, collect(rec, r), r.acked);
                    long next = rec.nextOffset(0);
                    rec.append(0, ByteBuffer.wrap(content(10_000)), 0);
                    assertEquals(next + 1, rec.nextOffset(0));
                }
            acked += r.acked.size();
            promised += r.promised.size();
            failedBatches += r.failed.isEmpty() ? 0 : 1;
            durabilityErrors += r.durabilityErrors;
            ackChecks += checks[0];
            TestFiles.deleteTree(live);
        }
        System.out.println("fsyncFailure mode=" + mode + " points=" + points + " images=" + images + " acked=" + acked
                + " promised=" + promised + " promisedAfterFault=" + promisedAfterFault + " lost=" + lost + " phantom="
                + phantom + " durabilityExceptions=" + durabilityErrors
                + " runsWithFailedBatch=" + failedBatches + " sealedTailsTruncated=" + sealedTails
                + " writesAfterFailedFsync=0" + (mode == Durability.SYNC_BATCH ? " syncedAckChecks=" + ackChecks : ""));
    }

    // =========================================================================================
    // §2.9 full disk
    // =========================================================================================

    @Test
    void fullDiskAtEveryWriteSyncBatch() throws Exception {
        fullDiskAtEveryPoint(Durability.SYNC_BATCH);
    }

    @Test
    void fullDiskAtEveryWritePageCache() throws Exception {
        fullDiskAtEveryPoint(Durability.PAGE_CACHE);
    }

    @Test
    void fullDiskAtEveryWriteAsync() throws Exception {
        fullDiskAtEveryPoint(Durability.ASYNC);
    }

    /**
     * The device fills up at each write and file creation of the workload in turn (the write
     * there lands partly, as write(2) does) and stays full for two more steps. Pass: the calls
     * that need space fail with StorageFullException naming shard and file; while full, replay
     * returns exactly what was acknowledged (no partial frame); once space is freed the next calls
     * succeed without a reopen; close succeeds; reopen reports nothing (no torn frame) and holds
     * every acknowledged record, in ASYNC too (its records stayed in RAM and were retried).
     */
    private void fullDiskAtEveryPoint(Durability mode) throws Exception {
        long points = dryRunPoints(mode, false);
        long acked = 0, lost = 0, phantom = 0, storageFull = 0, readsWhileFull = 0, resumed = 0;
        for (long n = 1; n <= points; n++) {
            String where = mode + " space point " + n;
            Path live = tmp.resolve(mode + "-full-" + n);
            FaultyDisk disk = FaultyDisk.noSync();
            QueueExecutor rolls = new QueueExecutor();
            Run r = new Run(mode);
            ShardedWAL wal = ShardedWAL.open(live, options(mode, disk, rolls).build());
            disk.fullAt(n, (int) (n * 37 % 100));
            int[] fullSteps = {0};
            long[] reads = {0};
            workload(wal, r, rolls, step -> {
                if (!disk.full) return;
                if (++fullSteps[0] < 2) return;
                // reads keep working on a full device, and see no partial frame
                Set<Long> written = mode == Durability.ASYNC ? Set.of() : r.acked;
                verify(where + " while full", r, collect(wal, r), written);
                reads[0]++;
                disk.freeSpace();
            });
            boolean filledBeforeClose = disk.filledAt != null;
            if (disk.full) {
                verify(where + " while full", r, collect(wal, r), mode == Durability.ASYNC ? Set.of() : r.acked);
                reads[0]++;
                disk.freeSpace();
            }
            assertEquals(List.of(), r.unexpected, where);
            assertFalse(wal.shard(0).failed(), where);
            if (filledBeforeClose) {
                assertTrue(
                        r.storageFullErrors > 0 || disk.enospc.get() == 0,
                        where + ": ENOSPC without a StorageFullException (filled at " + disk.filledAt + ")");
                // writes resume by themselves once space is freed, without a reopen
                probe(wal, r, rolls, where + " (filled at " + disk.filledAt + ")");
                resumed++;
            }
            lost += verify(where + " live", r, collect(wal, r), r.acked);
            try {
                wal.close();
                // close() may succeed on a full device only if what failed was an index (a cache, dropped)
                assertTrue(
                        !disk.full || disk.filledAt.contains(".idx"),
                        where + ": close() succeeded although " + disk.filledAt + " failed");
                disk.freeSpace();
            } catch (StorageFullException e) {
                assertTrue(!filledBeforeClose && disk.full, where + ": " + e);
                assertEquals(0, e.shard());
                r.storageFullErrors++;
                disk.freeSpace();
            }
            assertNotNull(disk.filledAt, where + ": the point was never reached");
            try (ShardedWAL rec = ShardedWAL.open(live, WalOptions.builder().build())) {
                assertTrue(
                        rec.recoveryReport().clean(),
                        where + " (filled at " + disk.filledAt + "): " + rec.recoveryReport());
                lost += verify(where + " reopen", r, collect(rec, r), r.acked);
            }
            acked += r.acked.size();
            storageFull += r.storageFullErrors;
            readsWhileFull += reads[0];
            TestFiles.deleteTree(live);
        }
        System.out.println(
                "enospc mode=" + mode + " points=" + points + " acked=" + acked + " lost=" + lost + " phantom="
                        + phantom + " storageFullExceptions=" + storageFull + " replaysWhileFull=" + readsWhileFull
                        + " resumedWithoutReopen=" + resumed + " tornFramesOnReopen=0");
    }

    // =========================================================================================
    // §2.11 short writes and writes failing mid-frame
    // =========================================================================================

    /** FileChannel.write returns fewer bytes than asked (and sometimes 0): the writer loops, every frame is whole. */
    @Test
    void shortWritesAreLoopedOverInEveryMode() throws Exception {
        for (Durability mode : Durability.values()) {
            Path live = tmp.resolve("short-" + mode);
            FaultyDisk disk = FaultyDisk.noSync();
            disk.maxBytesPerWrite = 13;
            disk.zeroWriteEvery = 5;
            QueueExecutor rolls = new QueueExecutor();
            Run r = new Run(mode);
            ShardedWAL wal = ShardedWAL.open(live, options(mode, disk, rolls).build());
            workload(wal, r, rolls, step -> {});
            assertEquals(0, r.durabilityErrors + r.storageFullErrors + r.ioErrors, mode.toString());
            verify(mode + " live", r, collect(wal, r), r.acked);
            wal.close();
            assertTrue(disk.shortWrites.get() > 100, "short writes: " + disk.shortWrites.get());
            try (ShardedWAL rec = ShardedWAL.open(live, WalOptions.builder().build())) {
                assertTrue(rec.recoveryReport().clean(), rec.recoveryReport().toString());
                verify(mode + " reopen", r, collect(rec, r), r.acked);
                assertEquals(r.acked.size(), rec.nextOffset(0));
            }
            System.out.println("shortWrites mode=" + mode + " writeCalls=" + disk.writes.get() + " shortOrZeroReturns="
                    + disk.shortWrites.get() + " acked=" + r.acked.size() + " lost=0 phantom=0");
        }
    }

    @Test
    void writeFailingMidFrameAtEveryWriteSyncBatch() throws Exception {
        writeFailingMidFrame(Durability.SYNC_BATCH);
    }

    @Test
    void writeFailingMidFrameAtEveryWritePageCache() throws Exception {
        writeFailingMidFrame(Durability.PAGE_CACHE);
    }

    @Test
    void writeFailingMidFrameAtEveryWriteAsync() throws Exception {
        writeFailingMidFrame(Durability.ASYNC);
    }

    /**
     * At each write of the workload in turn, the write lands partly and then throws an I/O error
     * (Prometheus' TestLogPartialWrite). Pass: no partial frame is read back (live and after
     * reopen), the failed call's records are absent (PAGE_CACHE, SYNC_BATCH) or retried (ASYNC),
     * the shard stays usable (the following appends succeed and replay), reopen is clean.
     */
    private void writeFailingMidFrame(Durability mode) throws Exception {
        long points = dryRunPoints(mode, false);
        long acked = 0, lost = 0, phantom = 0, failedCalls = 0, hits = 0, uncut = 0;
        for (long n = 1; n <= points; n++) {
            String where = mode + " write point " + n;
            Path live = tmp.resolve(mode + "-mid-" + n);
            FaultyDisk disk = FaultyDisk.noSync();
            QueueExecutor rolls = new QueueExecutor();
            Run r = new Run(mode);
            ShardedWAL wal = ShardedWAL.open(live, options(mode, disk, rolls).build());
            long start = disk.spacePoints.get();
            disk.failWriteMidFrame(n, 1 + (int) (n * 53 % 98));
            // every other point: cutting the partial frame off fails too, so it stays behind the last block
            disk.failNextTruncate = n % 2 == 0;
            workload(wal, r, rolls, step -> {});
            assertEquals(List.of(), r.unexpected, where);
            assertFalse(wal.shard(0).failed(), where);
            if (disk.spacePoints.get() - start >= n) probe(wal, r, rolls, where + " (" + disk.midFrameFailedAt + ")");
            lost += verify(where + " live (" + disk.midFrameFailedAt + ")", r, collect(wal, r), r.acked);
            try {
                wal.close();
            } catch (IOException e) {
                assertNotNull(disk.midFrameFailedAt, where + ": " + e); // the failed write was close()'s
            }
            if (disk.midFrameFailedAt == null) {
                // the point was a file creation, not a write
                TestFiles.deleteTree(live);
                continue;
            }
            hits++;
            uncut += disk.failedTruncates.get();
            try (ShardedWAL rec = ShardedWAL.open(live, WalOptions.builder().build())) {
                assertTrue(
                        rec.recoveryReport().clean(),
                        where + " (" + disk.midFrameFailedAt + "): " + rec.recoveryReport());
                lost += verify(where + " reopen", r, collect(rec, r), r.acked);
            }
            acked += r.acked.size();
            failedCalls += r.failed.isEmpty() ? 0 : 1;
            TestFiles.deleteTree(live);
        }
        assertTrue(hits > STEPS, "write points hit: " + hits);
        assertTrue(uncut > 0, "no partial frame was left behind by a failed cut");
        System.out.println("midFrameWriteFailure mode=" + mode + " points=" + hits + " acked=" + acked + " lost=" + lost
                + " phantom=" + phantom + " runsWithFailedCall=" + failedCalls + " partialFramesLeftByFailedCut="
                + uncut
                + " tornFramesOnReopen=0");
    }
}
