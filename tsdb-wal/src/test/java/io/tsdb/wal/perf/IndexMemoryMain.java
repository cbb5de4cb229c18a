package io.tsdb.wal.perf;

import io.tsdb.wal.Durability;
import io.tsdb.wal.ReplayResult;
import io.tsdb.wal.ShardedWAL;
import io.tsdb.wal.WALShard;
import io.tsdb.wal.WalOptions;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Heap of the WAL's in-memory segment indexes for a workload of many tiny blocks (not a unit test):
 * one thread appends one {@code recordBytes} record per call in PAGE_CACHE mode (so each call is
 * one block, like the soak run's small group commits) until {@code totalMiB} MiB are written over
 * {@code shards} shards with the default 64 MiB segments; then prints blocks, index entries, the
 * index arrays' bytes (reached by reflection, so the same class measures any version) and the heap
 * after a full GC with the WAL open and after closing it.
 *
 * <pre>java -cp tsdb-wal/target/classes:tsdb-wal/target/test-classes:LZ4_JAR io.tsdb.wal.perf.IndexMemoryMain [totalMiB] [shards] [recordBytes]</pre>
 */
public final class IndexMemoryMain {
    public static void main(String[] args) throws Exception {
        int totalMiB = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int shards = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int recordBytes = args.length > 2 ? Integer.parseInt(args[2]) : 300;
        Path dir = Files.createTempDirectory("tsdb-idxmem-");
        WalOptions o = WalOptions.builder()
                .shards(shards)
                .durability(Durability.PAGE_CACHE)
                .compression(false)
                .build();
        long heapOpen, heapClosed, entries = 0, slots = 0, arrayBytes = 0, segments = 0, walBytes;
        long t0 = System.nanoTime();
        ShardedWAL wal = ShardedWAL.open(dir, o);
        ByteBuffer rec = ByteBuffer.allocate(recordBytes);
        long target = (long) totalMiB << 20, written = 0, appends = 0;
        while (written < target) {
            rec.clear();
            rec.putLong(0, appends);
            wal.append((int) (appends % shards), rec, appends);
            written += recordBytes + 56;
            appends++;
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        walBytes = wal.diskBytes();
        Field segsF = WALShard.class.getDeclaredField("segments");
        segsF.setAccessible(true);
        for (int i = 0; i < shards; i++) {
            for (Object seg : (List<?>) segsF.get(wal.shard(i))) {
                Field idxF = seg.getClass().getDeclaredField("index");
                idxF.setAccessible(true);
                Object idx = idxF.get(seg);
                Method size = idx.getClass().getDeclaredMethod("size");
                Method ents = idx.getClass().getDeclaredMethod("entries");
                size.setAccessible(true);
                ents.setAccessible(true);
                entries += (int) size.invoke(idx);
                Object e = ents.invoke(idx);
                Field firstF = e.getClass().getDeclaredField("first");
                firstF.setAccessible(true);
                int cap = ((long[]) firstF.get(e)).length;
                slots += cap;
                arrayBytes += 40L * cap + 6 * 16; // 4 long + 2 int per slot, 6 array headers
                segments++;
            }
        }
        heapOpen = heapAfterGc();
        // replay everything, and from the middle of each shard (a lookup inside a segment), best of 5
        long[] mid = new long[shards];
        for (int i = 0; i < shards; i++) mid[i] = wal.shard(i).nextOffset() / 2 + 7;
        double bestAll = Double.MAX_VALUE, bestMid = Double.MAX_VALUE;
        long recsAll = 0, recsMid = 0;
        for (int r = 0; r < 5; r++) {
            ReplayResult a = wal.replay(sh -> (off, b) -> {}, null, 1);
            ReplayResult m = wal.replay(sh -> (off, b) -> {}, mid, 1);
            bestAll = Math.min(bestAll, a.seconds());
            bestMid = Math.min(bestMid, m.seconds());
            recsAll = a.records();
            recsMid = m.records();
        }
        System.out.printf(
                Locale.ROOT,
                "idxmem replayAll records=%d bestSeconds=%.3f (%.2fM records/s); replayFromMiddle"
                        + " records=%d bestSeconds=%.3f%n",
                recsAll,
                bestAll,
                recsAll / bestAll / 1e6,
                recsMid,
                bestMid);
        wal.close();
        wal = null;
        heapClosed = heapAfterGc();
        System.out.printf(
                Locale.ROOT,
                "idxmem appends(blocks)=%d walBytes=%d segments=%d indexEntries=%d indexSlots=%d"
                        + " indexArrayBytes=%d indexBytesPerWalMiB=%.0f heapAfterGcOpen=%d heapAfterGcClosed=%d heapDelta=%d"
                        + " writeSeconds=%.2f%n",
                appends,
                walBytes,
                segments,
                entries,
                slots,
                arrayBytes,
                arrayBytes / (walBytes / 1048576.0),
                heapOpen,
                heapClosed,
                heapOpen - heapClosed,
                secs);
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder())
                    .forEach(p -> p.toFile().delete());
        }
    }

    private static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
