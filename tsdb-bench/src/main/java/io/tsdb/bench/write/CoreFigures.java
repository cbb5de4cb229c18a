package io.tsdb.bench.write;

import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageStats;
import io.tsdb.wal.WalStats;

/**
 * The store figures the commands print, read from one {@link StorageImpl#stats()} snapshot.
 *
 * @param series              live series in the head
 * @param samples             samples in the head
 * @param chunks              chunks in the head
 * @param chunkBytes          encoded bytes of all head chunks
 * @param walBytes            bytes of the WAL segment files
 * @param walAppends          WAL appends since open (a commit appends one batch per shard it touches)
 * @param lockWaitNanos       total WAL shard lock wait since open
 * @param stats               the whole snapshot
 */
public record CoreFigures(
        long series,
        long samples,
        long chunks,
        long chunkBytes,
        long walBytes,
        long walAppends,
        long lockWaitNanos,
        StorageStats stats) {

    public static CoreFigures of(StorageImpl store) {
        StorageStats s = store.stats();
        WalStats wal = s.wal();
        long appends = wal == null ? 0 : wal.total().appends();
        long lockWait = wal == null ? 0 : wal.total().lockWaitTotalNanos();
        return new CoreFigures(
                s.series(), s.samples(), s.chunks(), s.headChunkBytes(), s.walDiskBytes(), appends, lockWait, s);
    }

    /** Lock wait per WAL append (0 when nothing was appended). */
    public double lockWaitNsPerAppend() {
        return walAppends == 0 ? 0 : lockWaitNanos / (double) walAppends;
    }
}
