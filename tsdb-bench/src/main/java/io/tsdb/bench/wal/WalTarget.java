package io.tsdb.bench.wal;

import io.tsdb.bench.baseline.WriteAheadLog;
import io.tsdb.wal.Durability;
import io.tsdb.wal.ShardedWAL;
import io.tsdb.wal.WalOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * What a WAL benchmark appends to: the sharded WAL with N shards, or the single-mutex baseline.
 * Both report their cumulative lock wait the same way (time from asking for the lock to holding
 * it, summed over appends).
 */
public interface WalTarget extends AutoCloseable {

    /** Appends one record; returns its offset once acknowledged. */
    long append(long key, ByteBuffer record, long attribute) throws IOException;

    /** Cumulative nanoseconds appenders waited for a lock. */
    long lockWaitNanosTotal();

    /** Cumulative appends as counted by the log. */
    long appendsTotal();

    @Override
    void close() throws IOException;

    /** The benchmark's two durability modes. */
    enum Mode {
        PAGE_CACHE("page-cache"),
        FSYNC("fsync");

        public final String label;

        Mode(String label) {
            this.label = label;
        }

        public static Mode parse(String s) {
            for (Mode m : values()) {
                if (m.label.equals(s)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown mode '" + s + "' (expected page-cache or fsync)");
        }
    }

    /**
     * Opens a target in {@code dir}: {@code shards == 0} means the baseline; otherwise a
     * {@link ShardedWAL} with that many shards, PAGE_CACHE or SYNC_BATCH durability.
     */
    static WalTarget open(Path dir, int shards, Mode mode) throws IOException {
        if (shards == 0) {
            WriteAheadLog log = WriteAheadLog.open(dir.resolve("baseline.wal"), mode == Mode.FSYNC);
            return new WalTarget() {
                public long append(long key, ByteBuffer record, long attribute) throws IOException {
                    return log.append(key, record, attribute);
                }

                public long lockWaitNanosTotal() {
                    return log.lockWaitNanosTotal();
                }

                public long appendsTotal() {
                    return log.appends();
                }

                public void close() throws IOException {
                    log.close();
                }
            };
        }
        WalOptions opts = WalOptions.builder()
                .shards(shards)
                .durability(mode == Mode.FSYNC ? Durability.SYNC_BATCH : Durability.PAGE_CACHE)
                .build();
        ShardedWAL wal = ShardedWAL.open(dir, opts);
        return new WalTarget() {
            public long append(long key, ByteBuffer record, long attribute) throws IOException {
                return wal.append(key, record, attribute);
            }

            public long lockWaitNanosTotal() {
                return WalMetrics.lockWaitNanosTotal(wal);
            }

            public long appendsTotal() {
                return WalMetrics.appendsTotal(wal);
            }

            public void close() throws IOException {
                wal.close();
            }
        };
    }
}
