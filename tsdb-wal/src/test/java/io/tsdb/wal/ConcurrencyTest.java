package io.tsdb.wal;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** 64 threads over 16 shards: every acknowledged record is replayed exactly once and in per-key order. */
class ConcurrencyTest {
    @TempDir
    Path dir;

    static final boolean LONG = Boolean.getBoolean("tsdb.long");

    @Test
    void pageCache() throws Exception {
        run(Durability.PAGE_CACHE, LONG ? 2000 : 300, dir.resolve("pc"));
    }

    @Test
    void syncBatch() throws Exception {
        run(Durability.SYNC_BATCH, LONG ? 500 : 60, dir.resolve("sb"));
    }

    @Test
    void async() throws Exception {
        run(Durability.ASYNC, LONG ? 2000 : 300, dir.resolve("as"));
    }

    private void run(Durability mode, int perThread, Path d) throws Exception {
        int threads = 64;
        WalOptions o = WalOptions.builder()
                .shards(16)
                .durability(mode)
                .segmentBytes(64 << 10)
                .maxBatchBytes(16 << 10)
                .build();
        // acked[t] = highest acknowledged sequence of thread t (each thread has 4 keys)
        long[][] acked = new long[threads][4];
        AtomicReference<Throwable> err = new AtomicReference<>();
        try (ShardedWAL wal = ShardedWAL.open(d, o)) {
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final int tid = t;
                Thread th = new Thread(() -> {
                    try {
                        go.await();
                        for (int i = 0; i < perThread; i++) {
                            int k = i % 4;
                            long key = tid * 4L + k;
                            if (i % 5 == 4) {
                                // a batch of 3 consecutive sequence numbers for one key
                                List<ByteBuffer> recs = new ArrayList<>();
                                for (int j = 0; j < 3; j++) recs.add(rec(key, acked[tid][k] + 1 + j));
                                wal.appendBatch(wal.shardFor(key), recs, i, i);
                                acked[tid][k] += 3;
                            } else {
                                wal.append(key, rec(key, acked[tid][k] + 1), i);
                                acked[tid][k] += 1;
                            }
                        }
                    } catch (Throwable e) {
                        err.compareAndSet(null, e);
                    }
                });
                ts.add(th);
                th.start();
            }
            go.countDown();
            for (Thread th : ts) th.join();
            if (err.get() != null) throw new AssertionError("writer failed", err.get());
            WalStats st = wal.stats();
            long expectedRecords = 0;
            for (long[] a : acked) for (long x : a) expectedRecords += x;
            assertEquals(expectedRecords, st.total().records());
        }
        try (ShardedWAL wal = ShardedWAL.open(d, WalOptions.builder().build())) {
            assertTrue(wal.recoveryReport().clean(), wal.recoveryReport().toString());
            Map<Long, Long> lastSeq = new ConcurrentHashMap<>();
            List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());
            long[] prevOffset = new long[16];
            java.util.Arrays.fill(prevOffset, -1);
            ReplayResult r = wal.replay(
                    shard -> (off, b) -> {
                        long key = b.getLong(b.position());
                        long seq = b.getLong(b.position() + 8);
                        if (wal.shardFor(key) != shard) problems.add("key " + key + " in shard " + shard);
                        if (off != prevOffset[shard] + 1)
                            problems.add("shard " + shard + " offset " + off + " after " + prevOffset[shard]);
                        prevOffset[shard] = off;
                        Long prev = lastSeq.put(key, seq);
                        long expect = prev == null ? 1 : prev + 1;
                        if (seq != expect) problems.add("key " + key + " seq " + seq + " expected " + expect);
                    },
                    null,
                    4);
            assertEquals(List.of(), problems.subList(0, Math.min(10, problems.size())));
            long total = 0;
            for (int t = 0; t < threads; t++) {
                for (int k = 0; k < 4; k++) {
                    long key = t * 4L + k;
                    assertEquals(acked[t][k], lastSeq.getOrDefault(key, 0L), "key " + key);
                    total += acked[t][k];
                }
            }
            assertEquals(total, r.records());
        }
    }

    static ByteBuffer rec(long key, long seq) {
        ByteBuffer b = ByteBuffer.allocate(16 + (int) (seq % 40));
        b.putLong(0, key).putLong(8, seq);
        return b;
    }
}
