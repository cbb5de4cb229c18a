package io.tsdb.wal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedWALTest {
    @TempDir
    Path dir;

    static ByteBuffer rec(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    static List<String> replayShard(ShardedWAL wal, int shard, long from) throws IOException {
        List<String> out = new ArrayList<>();
        long[] froms = new long[wal.shardCount()];
        java.util.Arrays.fill(froms, Long.MAX_VALUE);
        froms[shard] = from;
        wal.replay(
                i -> (off, b) -> {
                    byte[] a = new byte[b.remaining()];
                    b.get(a);
                    out.add(off + ":" + new String(a, StandardCharsets.UTF_8));
                },
                froms,
                2);
        return out;
    }

    @Test
    void appendFlushReplayRoundTripInEveryMode() throws Exception {
        for (Durability d : Durability.values()) {
            Path p = dir.resolve(d.name());
            WalOptions o = WalOptions.builder().shards(4).durability(d).build();
            List<List<String>> expected = new ArrayList<>();
            for (int i = 0; i < 4; i++) expected.add(new ArrayList<>());
            try (ShardedWAL wal = ShardedWAL.open(p, o)) {
                assertEquals(4, wal.shardCount());
                for (int i = 0; i < 1000; i++) {
                    long key = i * 31L;
                    String v = "record-" + i + "-" + "x".repeat(i % 50);
                    long off = wal.append(key, rec(v), i);
                    expected.get(wal.shardFor(key)).add(off + ":" + v);
                }
                List<ByteBuffer> batch = new ArrayList<>();
                for (int i = 0; i < 100; i++) batch.add(rec("batch-" + i));
                long last = wal.appendBatch(2, batch, 5, 10);
                for (int i = 0; i < 100; i++) expected.get(2).add((last - 99 + i) + ":batch-" + i);
                wal.flush();
                for (int s = 0; s < 4; s++)
                    assertEquals(expected.get(s), replayShard(wal, s, 0), "mode " + d + " shard " + s);
            }
            try (ShardedWAL wal =
                    ShardedWAL.open(p, WalOptions.builder().durability(d).build())) {
                assertEquals(4, wal.shardCount());
                assertTrue(wal.recoveryReport().clean(), wal.recoveryReport().toString());
                for (int s = 0; s < 4; s++) {
                    assertEquals(expected.get(s), replayShard(wal, s, 0));
                    assertEquals(expected.get(s).size(), wal.nextOffset(s));
                }
                // replay from an offset
                List<String> tail = replayShard(wal, 2, 50);
                assertEquals(expected.get(2).subList(50, expected.get(2).size()), tail);
            }
        }
    }

    @Test
    void segmentsRollAndTruncateBefore() throws Exception {
        WalOptions o = WalOptions.builder()
                .shards(1)
                .segmentBytes(4096)
                .compression(false)
                .build();
        List<String> expected = new ArrayList<>();
        try (ShardedWAL wal = ShardedWAL.open(dir, o)) {
            for (int i = 0; i < 500; i++) {
                String v = "value-" + i + "-" + "y".repeat(40);
                long off = wal.append(i, rec(v), i);
                expected.add(off + ":" + v);
            }
            assertTrue(
                    wal.shard(0).segmentCount() > 3, "segments: " + wal.shard(0).segmentCount());
            assertEquals(expected, replayShard(wal, 0, 0));
            assertEquals(expected.subList(321, 500), replayShard(wal, 0, 321));
            long before = wal.diskBytes();
            wal.truncateBefore(0, 300);
            assertTrue(wal.diskBytes() < before);
            long first = wal.shard(0).firstOffset();
            assertTrue(first <= 300 && first > 0, "first " + first);
            List<String> rest = replayShard(wal, 0, 0);
            assertEquals(expected.subList((int) first, 500), rest);
        }
        try (ShardedWAL wal = ShardedWAL.open(dir, o)) {
            assertTrue(wal.recoveryReport().clean(), wal.recoveryReport().toString());
            long first = wal.shard(0).firstOffset();
            assertEquals(expected.subList((int) first, 500), replayShard(wal, 0, 0));
            assertEquals(500, wal.nextOffset(0));
            long off = wal.append(7, rec("after"), 1);
            assertEquals(500, off);
        }
    }

    @Test
    void statsAndPrometheusText() throws Exception {
        try (ShardedWAL wal = ShardedWAL.open(
                dir,
                WalOptions.builder().shards(2).durability(Durability.SYNC_BATCH).build())) {
            for (int i = 0; i < 50; i++) wal.append(i, rec("abc" + i), i);
            WalStats st = wal.stats();
            assertEquals(50, st.total().records());
            assertEquals(50, st.total().appends());
            assertTrue(st.total().fsyncs() >= 1);
            assertTrue(st.total().blocks() >= 1);
            assertEquals(2, st.shards().size());
            wal.replay(i -> (o, b) -> {}, null, 2);
            assertEquals(50, wal.stats().total().replayRecords());
            String text = st.toPrometheusText();
            assertTrue(text.contains("tsdb_wal_records_total{shard=\"total\"} 50"), text);
            assertTrue(text.contains("tsdb_wal_ack_latency_seconds{shard=\"0\",quantile=\"0.999\"}"), text);
        }
    }

    @Test
    void asyncBatchesAreWrittenByTheBackgroundFlusher() throws Exception {
        WalOptions o = WalOptions.builder()
                .shards(2)
                .durability(Durability.ASYNC)
                .flushInterval(Duration.ofMillis(5))
                .build();
        try (ShardedWAL wal = ShardedWAL.open(dir, o)) {
            for (int i = 0; i < 10; i++) wal.append(i, rec("async" + i), i);
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (wal.stats().total().bufferedBytes() > 0 && System.nanoTime() < deadline) Thread.sleep(5);
            assertEquals(0, wal.stats().total().bufferedBytes(), "the flusher never wrote the batch");
            assertTrue(wal.stats().total().blocks() >= 1);
        }
    }

    @Test
    void syncBatchAcknowledgesOnlyAfterForce() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        WalOptions o = WalOptions.builder()
                .shards(1)
                .durability(Durability.SYNC_BATCH)
                .disk(disk)
                .build();
        try (ShardedWAL wal = ShardedWAL.open(dir, o)) {
            for (int i = 0; i < 20; i++) {
                long before = disk.forces.get();
                wal.append(i, rec("s" + i), i);
                assertTrue(disk.forces.get() > before, "append " + i + " returned without an fsync");
            }
        }
    }

    @Test
    void periodicSyncForcesInTheBackground() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        WalOptions o = WalOptions.builder()
                .shards(1)
                .durability(Durability.PAGE_CACHE)
                .disk(disk)
                .periodicSync(Duration.ofMillis(10))
                .build();
        try (ShardedWAL wal = ShardedWAL.open(dir, o)) {
            long before = wal.stats().total().fsyncs();
            wal.append(1, rec("p"), 1);
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (wal.stats().total().fsyncs() == before && System.nanoTime() < deadline) Thread.sleep(5);
            assertTrue(wal.stats().total().fsyncs() > before, "no background fsync");
        }
    }

    @Test
    void replayIsIdenticalWithAnyParallelism() throws Exception {
        try (ShardedWAL wal =
                ShardedWAL.open(dir, WalOptions.builder().shards(8).build())) {
            for (int i = 0; i < 3000; i++) wal.append(i * 7919L, rec("v" + i), i);
            long[] hashes = new long[3];
            int[] ps = {1, 4, 8};
            for (int k = 0; k < 3; k++) {
                long[] perShard = new long[8];
                ReplayResult r = wal.replay(
                        sh -> (off, b) -> {
                            long h = perShard[sh] * 31 + off;
                            while (b.hasRemaining()) h = h * 31 + b.get();
                            perShard[sh] = h;
                        },
                        null,
                        ps[k]);
                assertEquals(3000, r.records());
                hashes[k] = java.util.Arrays.hashCode(perShard);
            }
            assertEquals(hashes[0], hashes[1]);
            assertEquals(hashes[0], hashes[2]);
        }
    }
}
