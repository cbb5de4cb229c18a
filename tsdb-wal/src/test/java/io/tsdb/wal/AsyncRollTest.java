package io.tsdb.wal;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * ASYNC segment rolls keep their fsyncs off the write-out (docs/durability.md): the writer creates
 * the next segment and goes on writing into it while a background task forces the old one.
 * FaultyDisk holds that force, so the window is as long as the test wants, deterministically.
 */
class AsyncRollTest {
    @TempDir
    Path tmp;

    static ByteBuffer rec(long seq) {
        return ByteBuffer.wrap(FaultInjectionTest.content(seq));
    }

    /** Sequence numbers replayed from shard 0, checked bit for bit. */
    static List<Long> replaySeqs(ShardedWAL wal) throws Exception {
        List<Long> seqs = new ArrayList<>();
        wal.replay(
                i -> (off, b) -> {
                    byte[] a = new byte[b.remaining()];
                    b.get(a);
                    long seq = ByteBuffer.wrap(a).getLong(0);
                    assertArrayEquals(FaultInjectionTest.content(seq), a, "record " + seq + " has other bits");
                    seqs.add(seq);
                },
                null,
                1);
        return seqs;
    }

    /** The replayed records are exactly 0..k-1 for some k >= atLeast (a gap-free prefix, nothing unattempted). */
    static int assertPrefix(List<Long> seqs, long atLeast, long attempted, String where) {
        for (int i = 0; i < seqs.size(); i++) assertEquals(i, (long) seqs.get(i), where + ": not a prefix: " + seqs);
        assertTrue(seqs.size() >= atLeast, where + ": lost synced records: " + seqs.size() + " < " + atLeast);
        assertTrue(seqs.size() <= attempted, where + ": phantom records");
        return seqs.size();
    }

    @Test
    @Timeout(60) // guards against a hang (the write-out waiting for the held fsync), not a performance bound
    void asyncWriteOutGoesOnWhileTheRollsFsyncIsInProgress() throws Exception {
        FaultyDisk disk = FaultyDisk.noSync();
        Path live = tmp.resolve("live");
        Path first = live.resolve("shard-000").resolve(Segment.fileName(0)).toAbsolutePath();
        ExecutorService rolls = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "test-roll-completion");
            t.setDaemon(true);
            return t;
        });
        WalOptions o = WalOptions.builder()
                .shards(1)
                .durability(Durability.ASYNC)
                .segmentBytes(4096)
                .flushInterval(Duration.ofHours(1))
                .disk(disk)
                .rollExecutor(rolls)
                .build();
        ShardedWAL wal = ShardedWAL.open(live, o);
        long seq = 0;
        for (; seq < 5; seq++) wal.append(0, rec(seq), seq);
        wal.sync(); // records 0..4 are promised durable
        long synced = seq;
        disk.holdForces(p -> p.equals(first));
        while (wal.shard(0).segmentCount() < 2) {
            wal.append(0, rec(seq), seq);
            seq++;
            wal.flush();
        }
        // the roll's completion is now stuck in force() of the old segment, on its own thread
        while (disk.heldForces.get() == 0) Thread.sleep(1);
        long rolledAt = seq;
        int writeOuts = 0;
        for (int i = 0; i < 10; i++, seq++) {
            wal.append(0, rec(seq), seq);
            wal.flush(); // an ASYNC write-out: returns although the old segment's fsync has not finished
            writeOuts++;
        }
        assertEquals(1, disk.heldForces.get(), "the roll's fsync finished early: the test proves nothing");
        assertEquals(2, wal.shard(0).segmentCount());
        assertPrefix(replaySeqs(wal), seq, seq, "live");
        assertEquals(seq, replaySeqs(wal).size(), "records written during the roll are readable");
        // the window is real: the new segment's directory entry and the old segment's tail are not fsynced yet
        assertTrue(disk.unsyncedNames.contains(
                live.resolve("shard-000").resolve(Segment.fileName(rolledAt)).toAbsolutePath()));
        assertFalse(disk.unsyncedSegments(live.resolve("shard-000")).isEmpty());

        // power loss while the roll is unfinished: every image recovers a gap-free prefix holding the synced records
        Random rnd = new Random(42);
        int images = 0, removed = 0;
        int[][] cases = {{1, 0}, {1, 1}, {2, 1}, {3, 1}, {0, 1}}; // {tail mode, keep the new segment's unsynced name}
        for (int[] c : cases) {
            Path image = tmp.resolve("image-" + c[0] + "-" + c[1]);
            disk.powerLossImage(live, image, c[0], c[1] == 1, rnd);
            try (ShardedWAL rec =
                    ShardedWAL.open(image, WalOptions.builder().strict(true).build())) {
                String where = "image tail=" + c[0] + " keepNames=" + c[1] + " " + rec.recoveryReport();
                int n = assertPrefix(replaySeqs(rec), synced, seq, where);
                if (c[0] == 0) assertEquals(seq, n, where + ": a kill -9 loses nothing written");
                RecoveryReport r = rec.recoveryReport();
                assertEquals(
                        0,
                        r.count(RecoveryReport.Kind.CORRUPT_BLOCK_SKIPPED)
                                + r.count(RecoveryReport.Kind.CORRUPT_TAIL_TRUNCATED)
                                + r.count(RecoveryReport.Kind.OFFSET_GAP),
                        where);
                for (RecoveryReport.Event e : r.events(RecoveryReport.Kind.TORN_TAIL_TRUNCATED)) {
                    if (e.segment().equals(Segment.fileName(rolledAt))
                            && e.detail().contains("unfinished roll")) removed++;
                }
                assertEquals(n, rec.nextOffset(0), where);
            }
            images++;
            TestFiles.deleteTree(image);
        }
        // the cases that keep the new segment's name but lose the old one's unsynced tail need the unfinished-roll
        // repair
        assertEquals(3, removed, "segments removed after an unfinished roll");

        disk.releaseForces();
        wal.sync(); // waits for the roll's completion (it holds the sync role), then forces and anchors
        Path sd = live.resolve("shard-000");
        assertTrue(Files.exists(sd.resolve(String.format("%020d.idx", 0))), "the old segment's index");
        Anchor a = Anchor.read(Disk.DEFAULT, sd);
        assertEquals(rolledAt, a.segmentBase(), "the anchor points into the new segment");
        assertEquals(seq, a.committedOffset());
        assertEquals(List.of(), disk.unsyncedSegments(sd), "after sync() everything is fsynced");
        wal.close();
        rolls.shutdown();
        try (ShardedWAL rec = ShardedWAL.open(live, WalOptions.builder().build())) {
            assertTrue(rec.recoveryReport().clean(), rec.recoveryReport().toString());
            assertPrefix(replaySeqs(rec), seq, seq, "reopen");
        }
        System.out.println("asyncRoll writeOutsWhileRollFsyncHeld=" + writeOuts + " acked=" + seq + " lost=0 phantom=0"
                + " powerLossImagesDuringRoll=" + images + " unfinishedRollSegmentsRemoved=" + removed);
    }

    /** The real sync thread completes ASYNC rolls: many rolls, close, reopen clean, every record there. */
    @Test
    void asyncRollsCompleteInTheBackground() throws Exception {
        Path live = tmp.resolve("bg");
        WalOptions o = WalOptions.builder()
                .shards(2)
                .durability(Durability.ASYNC)
                .segmentBytes(4096)
                .build();
        long n = 600;
        int segments;
        try (ShardedWAL wal = ShardedWAL.open(live, o)) {
            for (long seq = 0; seq < n; seq++) {
                wal.appendBatch(0, List.of(rec(seq)), seq, seq);
                wal.flush(); // one small block per record: a roll every ~20 records (when the last one is finished)
            }
            wal.sync();
            segments = wal.shard(0).segmentCount();
            assertTrue(segments >= 2, "segments: " + segments);
            assertPrefix(replaySeqs(wal), n, n, "live");
        }
        Path sd = live.resolve("shard-000");
        List<Path> segs = TestFiles.segments(sd);
        assertEquals(segments, segs.size());
        for (Path p : segs.subList(0, segs.size() - 1)) {
            String idx = p.getFileName().toString().replace(".log", ".idx");
            assertTrue(Files.exists(sd.resolve(idx)), "sealed segment without index: " + p.getFileName());
        }
        assertEquals(
                Segment.parseBase(segs.get(segs.size() - 1).getFileName().toString()),
                Anchor.read(Disk.DEFAULT, sd).segmentBase(),
                "the anchor points into the newest segment");
        try (ShardedWAL rec = ShardedWAL.open(live, WalOptions.builder().build())) {
            assertTrue(rec.recoveryReport().clean(), rec.recoveryReport().toString());
            assertPrefix(replaySeqs(rec), n, n, "reopen");
        }
    }
}
