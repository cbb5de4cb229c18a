package io.tsdb.wal.perf;

import io.tsdb.wal.Durability;
import io.tsdb.wal.ReplayResult;
import io.tsdb.wal.ShardedWAL;
import io.tsdb.wal.WalOptions;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/** Ad-hoc throughput check (not a unit test): java -cp ... io.tsdb.wal.perf.WalPerfMain [dir] [seconds]. */
public final class WalPerfMain {
    public static void main(String[] args) throws Exception {
        Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("walperf");
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int recLen = args.length > 3 ? Integer.parseInt(args[3]) : 200;
        int perBatch = args.length > 4 ? Integer.parseInt(args[4]) : 100;
        Durability mode = args.length > 5 ? Durability.valueOf(args[5]) : Durability.PAGE_CACHE;
        WalOptions o = WalOptions.builder().durability(mode).build();
        AtomicLong recs = new AtomicLong();
        try (ShardedWAL wal = ShardedWAL.open(dir, o)) {
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final int tid = t;
                Thread th = new Thread(() -> {
                    Random r = new Random(tid);
                    List<ByteBuffer> batch = new ArrayList<>();
                    for (int i = 0; i < perBatch; i++) {
                        byte[] a = new byte[recLen];
                        for (int j = 0; j < recLen; j++) a[j] = (byte) (j % 7 == 0 ? r.nextInt() : 'a' + (j % 13));
                        batch.add(ByteBuffer.wrap(a));
                    }
                    int shard = tid % wal.shardCount();
                    try {
                        while (System.nanoTime() < end) {
                            wal.appendBatch(shard, batch, 0, 1);
                            recs.addAndGet(perBatch);
                            shard = (shard + threads) % wal.shardCount();
                        }
                    } catch (Exception e) {
                        e.printStackTrace();
                    }
                });
                ts.add(th);
                th.start();
            }
            for (Thread th : ts) th.join();
            System.out.printf(
                    "append mode=%s threads=%d shards=%d recLen=%d perBatch=%d records/s=%.0f MB/s=%.1f%n",
                    mode,
                    threads,
                    wal.shardCount(),
                    recLen,
                    perBatch,
                    recs.get() / (double) seconds,
                    recs.get() * (double) recLen / seconds / 1e6);
            System.out.println(wal.stats());
        }
        try (ShardedWAL wal = ShardedWAL.open(dir, WalOptions.builder().build())) {
            for (int p : new int[] {1, 2}) {
                AtomicLong sink = new AtomicLong();
                ReplayResult r = wal.replay(i -> (off, b) -> sink.addAndGet(b.get(b.position())), null, p);
                System.out.printf(
                        "replay parallelism=%d records=%d rawMB=%.1f seconds=%.3f MB/s=%.1f records/s=%.0f%n",
                        p,
                        r.records(),
                        r.rawBytes() / 1e6,
                        r.seconds(),
                        r.bytesPerSecond() / 1e6,
                        r.recordsPerSecond());
            }
            System.out.printf("disk bytes=%d%n", wal.diskBytes());
        }
    }
}
