package io.tsdb.wal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ErrorsTest {
    @TempDir
    Path dir;

    @Test
    void badArgumentsGetTheirExceptions() throws Exception {
        try (ShardedWAL wal = ShardedWAL.open(
                dir, WalOptions.builder().shards(2).maxRecordBytes(100).build())) {
            assertThrows(NullPointerException.class, () -> wal.append(1, null, 0));
            assertThrows(NullPointerException.class, () -> wal.appendBatch(0, null, 0, 0));
            assertThrows(NullPointerException.class, () -> wal.appendBatch(0, Collections.singletonList(null), 0, 0));
            assertThrows(IllegalArgumentException.class, () -> wal.appendBatch(0, List.of(), 0, 0));
            assertThrows(
                    IllegalArgumentException.class, () -> wal.appendBatch(2, List.of(ByteBuffer.allocate(1)), 0, 0));
            assertThrows(
                    IllegalArgumentException.class, () -> wal.appendBatch(-1, List.of(ByteBuffer.allocate(1)), 0, 0));
            assertThrows(
                    IllegalArgumentException.class, () -> wal.appendBatch(0, List.of(ByteBuffer.allocate(1)), 5, 4));
            RecordTooLargeException e =
                    assertThrows(RecordTooLargeException.class, () -> wal.append(1, ByteBuffer.allocate(101), 0));
            assertTrue(e.getMessage().contains("101"), e.getMessage());
            assertThrows(
                    RecordTooLargeException.class,
                    () -> wal.appendBatch(0, List.of(ByteBuffer.allocate(1), ByteBuffer.allocate(200)), 0, 0));
            assertThrows(IllegalArgumentException.class, () -> wal.nextOffset(5));
            assertThrows(IllegalArgumentException.class, () -> wal.shard(2));
            assertThrows(IllegalArgumentException.class, () -> wal.truncateBefore(0, -1));
            assertThrows(IllegalArgumentException.class, () -> wal.replay(i -> (o, b) -> {}, new long[3], 1));
            assertThrows(IllegalArgumentException.class, () -> wal.replay(i -> (o, b) -> {}, null, 0));
            assertThrows(NullPointerException.class, () -> wal.replay(null, null, 1));
            // nothing was written by the rejected calls
            assertEquals(0, wal.nextOffset(0) + wal.nextOffset(1));
            wal.append(1, ByteBuffer.allocate(100), 0);
            assertEquals(1, wal.nextOffset(0) + wal.nextOffset(1));
        }
        assertThrows(IllegalArgumentException.class, () -> WalOptions.builder().shards(-1));
        assertThrows(IllegalArgumentException.class, () -> WalOptions.builder().flushInterval(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> WalOptions.builder().segmentBytes(10));
        assertThrows(IllegalArgumentException.class, () -> WalOptions.builder().maxRecordBytes(0));
        assertThrows(IllegalArgumentException.class, () -> WalOptions.builder().maxBatchBytes(-3));
        assertThrows(IllegalArgumentException.class, () -> WalOptions.builder().maxBufferedBytesPerShard(0));
        assertThrows(
                IllegalArgumentException.class, () -> WalOptions.builder().backpressureTimeout(Duration.ofSeconds(-1)));
        assertThrows(NullPointerException.class, () -> WalOptions.builder().durability(null));
    }

    @Test
    void reopeningWithAnotherShardCountFailsClearly() throws Exception {
        try (ShardedWAL wal =
                ShardedWAL.open(dir, WalOptions.builder().shards(3).build())) {
            wal.append(1, ByteBuffer.allocate(4), 0);
        }
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ShardedWAL.open(dir, WalOptions.builder().shards(5).build()));
        assertTrue(e.getMessage().contains("3 shards"), e.getMessage());
        try (ShardedWAL wal = ShardedWAL.open(dir, WalOptions.builder().build())) {
            assertEquals(3, wal.shardCount());
        }
        // damaged meta: the count comes from the shard directories
        Files.write(dir.resolve("wal.meta"), new byte[] {1, 2, 3});
        try (ShardedWAL wal = ShardedWAL.open(dir, WalOptions.builder().build())) {
            assertEquals(3, wal.shardCount());
        }
        try (ShardedWAL wal = ShardedWAL.open(dir.resolve("fresh"), WalOptions.defaults())) {
            assertEquals(WalOptions.defaultShardCount(), wal.shardCount());
        }
    }

    @Test
    void appendAfterCloseThrowsWalClosedException() throws Exception {
        ShardedWAL wal = ShardedWAL.open(dir, WalOptions.builder().shards(2).build());
        WALShard s0 = wal.shard(0);
        wal.append(1, ByteBuffer.allocate(4), 0);
        wal.close();
        wal.close(); // idempotent
        assertThrows(WalClosedException.class, () -> wal.append(1, ByteBuffer.allocate(4), 0));
        assertThrows(WalClosedException.class, () -> wal.appendBatch(0, List.of(ByteBuffer.allocate(4)), 0, 0));
        assertThrows(WalClosedException.class, () -> s0.append(ByteBuffer.allocate(4), 0));
        assertThrows(WalClosedException.class, wal::flush);
        assertThrows(WalClosedException.class, () -> wal.replay(i -> (o, b) -> {}, null, 1));
    }

    @Test
    void backpressureTimesOutWithWalBackpressureException() throws Exception {
        WalOptions o = WalOptions.builder()
                .shards(1)
                .durability(Durability.ASYNC)
                .flushInterval(Duration.ofHours(1))
                .maxBufferedBytesPerShard(1000)
                .backpressureTimeout(Duration.ofMillis(50))
                .build();
        try (ShardedWAL wal = ShardedWAL.open(dir, o)) {
            int ok = 0;
            WalBackpressureException e = null;
            for (int i = 0; i < 100 && e == null; i++) {
                try {
                    wal.append(i, ByteBuffer.allocate(99), i);
                    ok++;
                } catch (WalBackpressureException x) {
                    e = x;
                }
            }
            assertNotNull(e);
            assertEquals(10, ok); // 10 x (99 + 1 varint byte) = 1000 bytes buffered
            assertTrue(e.getMessage().contains("maxBufferedBytesPerShard"), e.getMessage());
            assertEquals(1, wal.stats().total().backpressureEvents());
            assertEquals(1000, wal.stats().total().bufferedBytes());
            wal.flush(); // frees the buffer
            assertEquals(10, wal.append(1, ByteBuffer.allocate(99), 0));
        }
        try (ShardedWAL wal = ShardedWAL.open(dir, WalOptions.builder().build())) {
            assertEquals(11, wal.nextOffset(0));
        }
    }

    static List<Long> offsets(ShardedWAL wal, int shard, List<Byte> firstBytes) throws IOException {
        List<Long> offs = new ArrayList<>();
        long[] from = new long[wal.shardCount()];
        java.util.Arrays.fill(from, Long.MAX_VALUE);
        from[shard] = 0;
        wal.replay(
                i -> (off, b) -> {
                    offs.add(off);
                    firstBytes.add(b.get(b.position()));
                },
                from,
                1);
        return offs;
    }

    /** RELIABILITY §1.6: the failed batch fails, the fsync is not retried, the shard goes on in a new segment. */
    @Test
    void failedFsyncFailsTheBatchAndTheShardGoesOnInANewSegment() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        WalOptions o = WalOptions.builder()
                .shards(2)
                .durability(Durability.SYNC_BATCH)
                .disk(disk)
                .build();
        try (ShardedWAL wal = ShardedWAL.open(dir, o)) {
            for (int i = 0; i < 5; i++)
                assertEquals(i, wal.appendBatch(0, List.of(ByteBuffer.wrap(new byte[] {(byte) i})), 0, 0));
            assertEquals(1, wal.shard(0).segmentCount());
            disk.failNthForce(1);
            DurabilityException e = assertThrows(
                    DurabilityException.class,
                    () -> wal.appendBatch(0, List.of(ByteBuffer.wrap(new byte[] {9})), 0, 0));
            assertTrue(e.getMessage().contains("shard 0"), e.getMessage());
            assertEquals(0, e.shard());
            assertEquals(Segment.fileName(0), e.segment());
            long writesBefore = disk.writes.get();
            // never retried on that file: the shard continues in a new segment; the failed record's offset 5 is a gap
            assertEquals(6, wal.appendBatch(0, List.of(ByteBuffer.wrap(new byte[] {10})), 0, 0));
            assertTrue(disk.writes.get() > writesBefore);
            assertEquals(0, disk.writesAfterFsyncFailure.get(), "the segment whose fsync failed was written again");
            assertEquals(2, wal.shard(0).segmentCount());
            assertFalse(wal.shard(0).failed());
            assertFalse(wal.stats().shards().get(0).failed());
            // the other shard is untouched
            wal.appendBatch(1, List.of(ByteBuffer.wrap(new byte[] {1})), 0, 0);
            List<Byte> got = new ArrayList<>();
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 6L), offsets(wal, 0, got));
            assertEquals(List.of((byte) 0, (byte) 1, (byte) 2, (byte) 3, (byte) 4, (byte) 10), got);
        }
        try (ShardedWAL wal = ShardedWAL.open(dir, WalOptions.builder().build())) {
            RecoveryReport r = wal.recoveryReport();
            assertEquals(
                    0,
                    r.count(RecoveryReport.Kind.CORRUPT_BLOCK_SKIPPED)
                            + r.count(RecoveryReport.Kind.CORRUPT_TAIL_TRUNCATED)
                            + r.count(RecoveryReport.Kind.OFFSET_GAP),
                    r.toString());
            List<Byte> got = new ArrayList<>();
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 6L), offsets(wal, 0, got));
            assertEquals(List.of((byte) 0, (byte) 1, (byte) 2, (byte) 3, (byte) 4, (byte) 10), got);
            assertEquals(7, wal.appendBatch(0, List.of(ByteBuffer.wrap(new byte[] {11})), 0, 0));
        }
    }

    /** ... and only if no new segment can be opened either does the shard turn read-only, until reopened. */
    @Test
    void whenNoNewSegmentCanBeOpenedAfterAFailedFsyncTheShardRefusesWritesUntilReopened() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        WalOptions o = WalOptions.builder()
                .shards(2)
                .durability(Durability.SYNC_BATCH)
                .disk(disk)
                .build();
        try (ShardedWAL wal = ShardedWAL.open(dir, o)) {
            for (int i = 0; i < 5; i++) wal.appendBatch(0, List.of(ByteBuffer.wrap(new byte[] {(byte) i})), 0, 0);
            disk.failFsyncFrom(1); // the device stopped syncing: the new segment's force fails too
            assertThrows(
                    DurabilityException.class,
                    () -> wal.appendBatch(0, List.of(ByteBuffer.wrap(new byte[] {9})), 0, 0));
            ShardFailedException f = assertThrows(
                    ShardFailedException.class,
                    () -> wal.appendBatch(0, List.of(ByteBuffer.wrap(new byte[] {10})), 0, 0));
            assertTrue(
                    f.getMessage().contains("shard 0") && f.getMessage().contains("could not be opened"),
                    f.getMessage());
            assertTrue(wal.shard(0).failed());
            assertTrue(wal.stats().shards().get(0).failed());
            disk.stopFailingFsyncs();
            // the other shard still works; reads of the failed one too
            wal.appendBatch(1, List.of(ByteBuffer.wrap(new byte[] {1})), 0, 0);
            List<Byte> got = new ArrayList<>();
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L), offsets(wal, 0, got));
        }
        try (ShardedWAL wal = ShardedWAL.open(dir, WalOptions.builder().build())) {
            List<Byte> got = new ArrayList<>();
            // every acknowledged record is there, the failed batch is not (the segment was cut at its sealed length)
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L), offsets(wal, 0, got));
            assertEquals(List.of((byte) 0, (byte) 1, (byte) 2, (byte) 3, (byte) 4), got);
            long next = wal.appendBatch(0, List.of(ByteBuffer.wrap(new byte[] {11})), 0, 0);
            assertEquals(5, next);
            assertFalse(wal.shard(0).failed());
        }
    }

    /**
     * The new segment cannot be created after a failed fsync, but the seal reaches the anchor: the
     * shard is read-only until reopened; recovery then excludes the failed batch and, as the sealed
     * segment is the newest, continues in a new one.
     */
    @Test
    void aSealedNewestSegmentIsNotWrittenAgainAfterReopen() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        WalOptions o = WalOptions.builder()
                .shards(1)
                .durability(Durability.SYNC_BATCH)
                .disk(disk)
                .build();
        Path sd = dir.resolve("shard-000");
        try (ShardedWAL wal = ShardedWAL.open(dir, o)) {
            for (int i = 0; i < 5; i++) wal.appendBatch(0, List.of(ByteBuffer.wrap(new byte[] {(byte) i})), 0, 0);
            disk.failFsyncAt(1); // the block's fsync
            disk.failFsyncAt(2); // the new segment's fsync
            assertThrows(
                    DurabilityException.class,
                    () -> wal.appendBatch(0, List.of(ByteBuffer.wrap(new byte[] {9})), 0, 0));
            assertThrows(
                    ShardFailedException.class,
                    () -> wal.appendBatch(0, List.of(ByteBuffer.wrap(new byte[] {10})), 0, 0));
            Anchor a = Anchor.read(Disk.DEFAULT, sd);
            assertEquals(
                    List.of(new Anchor.Seal(
                            0,
                            Files.size(sd.resolve(Segment.fileName(0))),
                            Files.size(sd.resolve(Segment.fileName(0))))),
                    a.seals(),
                    "the seal reached the anchor");
            assertEquals(1, TestFiles.segments(sd).size(), "the failed new segment was removed");
        }
        try (ShardedWAL wal = ShardedWAL.open(dir, WalOptions.builder().build())) {
            assertEquals(
                    0,
                    wal.recoveryReport().count(RecoveryReport.Kind.CORRUPT_TAIL_TRUNCATED)
                            + wal.recoveryReport().count(RecoveryReport.Kind.CORRUPT_BLOCK_SKIPPED),
                    wal.recoveryReport().toString());
            assertEquals(2, wal.shard(0).segmentCount(), "a new segment after the sealed one");
            assertEquals(5, wal.appendBatch(0, List.of(ByteBuffer.wrap(new byte[] {11})), 0, 0));
            List<Byte> got = new ArrayList<>();
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L), offsets(wal, 0, got));
            assertEquals(List.of((byte) 0, (byte) 1, (byte) 2, (byte) 3, (byte) 4, (byte) 11), got);
        }
        assertEquals(0, disk.writesAfterFsyncFailure.get());
        try (ShardedWAL wal = ShardedWAL.open(dir, WalOptions.builder().build())) {
            assertTrue(wal.recoveryReport().clean(), wal.recoveryReport().toString());
            assertEquals(6, wal.nextOffset(0));
        }
    }

    /** RELIABILITY §2.11: a failed write fails only its batch; the shard stays usable, reopen is clean. */
    @Test
    void failedWriteFailsOnlyItsBatch() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        WalOptions o = WalOptions.builder()
                .shards(1)
                .durability(Durability.PAGE_CACHE)
                .disk(disk)
                .build();
        try (ShardedWAL wal = ShardedWAL.open(dir, o)) {
            assertEquals(0, wal.append(1, ByteBuffer.wrap(new byte[] {1, 0}), 0));
            disk.failNthWrite(1);
            IOException e = assertThrows(IOException.class, () -> wal.append(1, ByteBuffer.wrap(new byte[] {2, 0}), 0));
            assertFalse(e instanceof StorageFullException || e instanceof DurabilityException, e.toString());
            assertTrue(e.getMessage().contains("shard 0"), e.getMessage());
            // offset 1 was lost with the failed write: the next record gets 2, and replays
            assertEquals(2, wal.append(1, ByteBuffer.wrap(new byte[] {3, 0}), 0));
            assertFalse(wal.shard(0).failed());
            List<Byte> got = new ArrayList<>();
            assertEquals(List.of(0L, 2L), offsets(wal, 0, got));
            assertEquals(List.of((byte) 1, (byte) 3), got);
        }
        try (ShardedWAL wal = ShardedWAL.open(dir, WalOptions.builder().build())) {
            assertTrue(wal.recoveryReport().clean(), wal.recoveryReport().toString());
            assertEquals(3, wal.nextOffset(0));
            List<Byte> got = new ArrayList<>();
            assertEquals(List.of(0L, 2L), offsets(wal, 0, got));
            assertEquals(List.of((byte) 1, (byte) 3), got);
        }
    }

    @Test
    void truncateIsSafeAgainstConcurrentReplayAndAppend() throws Exception {
        for (int round = 0; round < Integer.getInteger("rounds", 1); round++) truncateRound(dir.resolve("r" + round));
    }

    private void truncateRound(Path dir) throws Exception {
        WalOptions o = WalOptions.builder().shards(1).segmentBytes(4096).build();
        try (ShardedWAL wal = ShardedWAL.open(dir, o)) {
            for (int i = 0; i < 2000; i++) wal.append(0, ByteBuffer.wrap(longBytes(i)), i);
            java.util.concurrent.atomic.AtomicReference<Throwable> err =
                    new java.util.concurrent.atomic.AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 2000; i < 4000; i++) wal.append(0, ByteBuffer.wrap(longBytes(i)), i);
                } catch (Throwable e) {
                    err.compareAndSet(null, e);
                }
            });
            List<Long> seen = Collections.synchronizedList(new ArrayList<>());
            Thread reader = new Thread(() -> {
                try {
                    wal.replay(
                            i -> (off, b) -> {
                                assertEquals(off, b.getLong(b.position()));
                                seen.add(off);
                            },
                            null,
                            1);
                } catch (Throwable e) {
                    err.compareAndSet(null, e);
                }
            });
            writer.start();
            reader.start();
            for (long cut = 100; cut < 3000; cut += 100) wal.truncateBefore(0, cut);
            writer.join();
            reader.join();
            if (err.get() != null) throw new AssertionError("writer or reader failed", err.get());
            for (int i = 1; i < seen.size(); i++) assertEquals(seen.get(i - 1) + 1, seen.get(i));
            wal.truncateBefore(0, 3000);
            long first = wal.shard(0).firstOffset();
            assertTrue(first > 2000 && first <= 3000, "first=" + first);
            List<Long> rest = new ArrayList<>();
            wal.replay(i -> (off, b) -> rest.add(off), null, 1);
            for (int i = 0; i < rest.size(); i++) assertEquals(first + i, rest.get(i), "first=" + first);
            assertEquals(4000 - first, rest.size(), "first=" + first);
        }
    }

    static byte[] longBytes(long v) {
        return ByteBuffer.allocate(40).putLong(0, v).array();
    }
}
