package io.tsdb.wal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/** Instrumentation snapshot, per shard and in total. */
public final class WalStats {

    /** Figures of one shard (or of all, {@code shard() == -1}). Latencies in nanoseconds. */
    public static final class ShardStats {
        private final int shard;
        private final long appends, records, rawBytes, storedBytes, blocks, maxBatchRecords;
        private final double meanBatchRecords;
        private final long lockWaitTotalNanos;
        private final Histogram lockWait, ack, fsync;
        private final long fsyncs, fsyncNanosTotal, backpressureEvents;
        private final double recordsPerSecond, bytesPerSecond;
        private final double replaySeconds;
        private final long replayRecords, replayBytes, bufferedBytes, nextOffset;
        private final boolean failed;

        ShardStats(
                int shard,
                long appends,
                long records,
                long rawBytes,
                long storedBytes,
                long blocks,
                double meanBatchRecords,
                long maxBatchRecords,
                long lockWaitTotalNanos,
                Histogram lockWait,
                Histogram ack,
                long fsyncs,
                long fsyncNanosTotal,
                Histogram fsync,
                long backpressureEvents,
                double recordsPerSecond,
                double bytesPerSecond,
                double replaySeconds,
                long replayRecords,
                long replayBytes,
                long bufferedBytes,
                long nextOffset,
                boolean failed) {
            this.shard = shard;
            this.appends = appends;
            this.records = records;
            this.rawBytes = rawBytes;
            this.storedBytes = storedBytes;
            this.blocks = blocks;
            this.meanBatchRecords = meanBatchRecords;
            this.maxBatchRecords = maxBatchRecords;
            this.lockWaitTotalNanos = lockWaitTotalNanos;
            this.lockWait = lockWait;
            this.ack = ack;
            this.fsyncs = fsyncs;
            this.fsyncNanosTotal = fsyncNanosTotal;
            this.fsync = fsync;
            this.backpressureEvents = backpressureEvents;
            this.recordsPerSecond = recordsPerSecond;
            this.bytesPerSecond = bytesPerSecond;
            this.replaySeconds = replaySeconds;
            this.replayRecords = replayRecords;
            this.replayBytes = replayBytes;
            this.bufferedBytes = bufferedBytes;
            this.nextOffset = nextOffset;
            this.failed = failed;
        }

        public int shard() {
            return shard;
        }
        /** Acknowledged append calls (single or batch). */
        public long appends() {
            return appends;
        }

        public long records() {
            return records;
        }
        /** Record bytes appended (without framing). */
        public long rawBytes() {
            return rawBytes;
        }
        /** Block bytes written to segment files (headers included). */
        public long storedBytes() {
            return storedBytes;
        }

        public long blocks() {
            return blocks;
        }
        /** Mean records per block (= per group-commit batch). */
        public double meanBatchRecords() {
            return meanBatchRecords;
        }

        public long maxBatchRecords() {
            return maxBatchRecords;
        }

        public long lockWaitTotalNanos() {
            return lockWaitTotalNanos;
        }

        public double lockWaitNanosPerAppend() {
            return appends == 0 ? 0 : (double) lockWaitTotalNanos / appends;
        }

        public long lockWaitP50Nanos() {
            return lockWait.getValueAtPercentile(50);
        }

        public long lockWaitP99Nanos() {
            return lockWait.getValueAtPercentile(99);
        }

        public long ackP50Nanos() {
            return ack.getValueAtPercentile(50);
        }

        public long ackP90Nanos() {
            return ack.getValueAtPercentile(90);
        }

        public long ackP99Nanos() {
            return ack.getValueAtPercentile(99);
        }

        public long ackP999Nanos() {
            return ack.getValueAtPercentile(99.9);
        }

        public long ackMaxNanos() {
            return ack.getMaxValue();
        }

        public long fsyncs() {
            return fsyncs;
        }

        public long fsyncNanosTotal() {
            return fsyncNanosTotal;
        }

        public long fsyncP50Nanos() {
            return fsync.getValueAtPercentile(50);
        }

        public long fsyncP99Nanos() {
            return fsync.getValueAtPercentile(99);
        }

        public long fsyncMaxNanos() {
            return fsync.getMaxValue();
        }

        public long backpressureEvents() {
            return backpressureEvents;
        }
        /** Records/s appended since the previous stats() call. */
        public double recordsPerSecond() {
            return recordsPerSecond;
        }

        public double bytesPerSecond() {
            return bytesPerSecond;
        }
        /** Duration of the last replay (for the total: the last whole-log replay). */
        public double replaySeconds() {
            return replaySeconds;
        }

        public long replayRecords() {
            return replayRecords;
        }

        public long replayBytes() {
            return replayBytes;
        }

        public double replayRecordsPerSecond() {
            return replaySeconds > 0 ? replayRecords / replaySeconds : 0;
        }

        public long bufferedBytes() {
            return bufferedBytes;
        }

        public long nextOffset() {
            return nextOffset;
        }

        public boolean failed() {
            return failed;
        }
        /** Stored bytes per raw byte (below 1 when LZ4 pays). */
        public double compressionRatio() {
            return rawBytes == 0 ? 0 : (double) storedBytes / rawBytes;
        }

        Histogram lockWaitHistogram() {
            return lockWait;
        }

        Histogram ackHistogram() {
            return ack;
        }

        Histogram fsyncHistogram() {
            return fsync;
        }

        @Override
        public String toString() {
            return String.format(
                    Locale.ROOT,
                    "shard=%s appends=%d records=%d rawBytes=%d storedBytes=%d blocks=%d meanBatch=%.1f maxBatch=%d "
                            + "lockWaitNsPerAppend=%.1f lockWaitP50=%d lockWaitP99=%d ackP50=%d ackP90=%d ackP99=%d "
                            + "ackP999=%d fsyncs=%d fsyncP99=%d backpressure=%d recordsPerSec=%.0f replaySec=%.3f "
                            + "replayRecordsPerSec=%.0f",
                    shard < 0 ? "total" : String.valueOf(shard),
                    appends,
                    records,
                    rawBytes,
                    storedBytes,
                    blocks,
                    meanBatchRecords,
                    maxBatchRecords,
                    lockWaitNanosPerAppend(),
                    lockWaitP50Nanos(),
                    lockWaitP99Nanos(),
                    ackP50Nanos(),
                    ackP90Nanos(),
                    ackP99Nanos(),
                    ackP999Nanos(),
                    fsyncs,
                    fsyncP99Nanos(),
                    backpressureEvents,
                    recordsPerSecond,
                    replaySeconds,
                    replayRecordsPerSecond());
        }
    }

    private final List<ShardStats> shards;
    private final ShardStats total;

    WalStats(List<ShardStats> shards, double lastReplaySeconds, long lastReplayRecords, long lastReplayBytes) {
        this.shards = Collections.unmodifiableList(new ArrayList<>(shards));
        Histogram lw = null, ack = null, fs = null;
        long appends = 0,
                records = 0,
                raw = 0,
                stored = 0,
                blocks = 0,
                maxBatch = 0,
                lwTotal = 0,
                fsyncs = 0,
                fsyncNs = 0,
                bp = 0,
                buffered = 0,
                next = 0;
        double rps = 0, bps = 0, batchRecords = 0;
        boolean failed = false;
        for (ShardStats s : shards) {
            appends += s.appends;
            records += s.records;
            raw += s.rawBytes;
            stored += s.storedBytes;
            blocks += s.blocks;
            maxBatch = Math.max(maxBatch, s.maxBatchRecords);
            lwTotal += s.lockWaitTotalNanos;
            fsyncs += s.fsyncs;
            fsyncNs += s.fsyncNanosTotal;
            bp += s.backpressureEvents;
            buffered += s.bufferedBytes;
            next += s.nextOffset;
            rps += s.recordsPerSecond;
            bps += s.bytesPerSecond;
            batchRecords += s.meanBatchRecords * s.blocks;
            failed |= s.failed;
            if (lw == null) {
                lw = s.lockWait.copy();
                ack = s.ack.copy();
                fs = s.fsync.copy();
            } else {
                lw.add(s.lockWait);
                ack.add(s.ack);
                fs.add(s.fsync);
            }
        }
        if (lw == null) {
            lw = new Histogram(2);
            ack = new Histogram(2);
            fs = new Histogram(2);
        }
        this.total = new ShardStats(
                -1,
                appends,
                records,
                raw,
                stored,
                blocks,
                blocks == 0 ? 0 : batchRecords / blocks,
                maxBatch,
                lwTotal,
                lw,
                ack,
                fsyncs,
                fsyncNs,
                fs,
                bp,
                rps,
                bps,
                lastReplaySeconds,
                lastReplayRecords,
                lastReplayBytes,
                buffered,
                next,
                failed);
    }

    /** Per shard, in shard order. */
    public List<ShardStats> shards() {
        return shards;
    }

    /** All shards together (shard() == -1). */
    public ShardStats total() {
        return total;
    }

    @Override
    public String toString() {
        return total.toString();
    }

    /**
     * The same figures in the Prometheus text exposition format (version 0.0.4). Every series has a
     * {@code shard} label: the shard number, or {@code "total"} for all shards together.
     */
    public String toPrometheusText() {
        StringBuilder sb = new StringBuilder(8192);
        List<ShardStats> all = new ArrayList<>(shards);
        all.add(total);
        counter(sb, all, "tsdb_wal_appends_total", "Acknowledged append calls.", ShardStats::appends);
        counter(sb, all, "tsdb_wal_records_total", "Acknowledged records.", ShardStats::records);
        counter(sb, all, "tsdb_wal_raw_bytes_total", "Record bytes appended.", ShardStats::rawBytes);
        counter(sb, all, "tsdb_wal_stored_bytes_total", "Block bytes written to segments.", ShardStats::storedBytes);
        counter(sb, all, "tsdb_wal_blocks_total", "Blocks (group-commit batches) written.", ShardStats::blocks);
        gauge(sb, all, "tsdb_wal_batch_records_mean", "Mean records per block.", ShardStats::meanBatchRecords);
        gauge(sb, all, "tsdb_wal_batch_records_max", "Most records in one block.", s -> s.maxBatchRecords);
        counter(
                sb,
                all,
                "tsdb_wal_lock_wait_seconds_total",
                "Time spent acquiring shard locks.",
                s -> s.lockWaitTotalNanos / 1e9);
        summary(
                sb,
                all,
                "tsdb_wal_lock_wait_seconds",
                "Lock wait per append.",
                ShardStats::lockWaitHistogram,
                new double[] {0.5, 0.99});
        summary(
                sb,
                all,
                "tsdb_wal_ack_latency_seconds",
                "Append-to-acknowledgement latency.",
                ShardStats::ackHistogram,
                new double[] {0.5, 0.9, 0.99, 0.999});
        counter(sb, all, "tsdb_wal_fsyncs_total", "fsync calls.", ShardStats::fsyncs);
        counter(sb, all, "tsdb_wal_fsync_seconds_total", "Time spent in fsync.", s -> s.fsyncNanosTotal / 1e9);
        summary(sb, all, "tsdb_wal_fsync_latency_seconds", "fsync latency.", ShardStats::fsyncHistogram, new double[] {
            0.5, 0.99
        });
        counter(
                sb,
                all,
                "tsdb_wal_backpressure_events_total",
                "Appends that had to wait for buffer space.",
                ShardStats::backpressureEvents);
        gauge(sb, all, "tsdb_wal_records_per_second", "Current append throughput.", ShardStats::recordsPerSecond);
        gauge(sb, all, "tsdb_wal_buffered_bytes", "Bytes buffered in RAM.", ShardStats::bufferedBytes);
        gauge(sb, all, "tsdb_wal_replay_seconds", "Duration of the last replay.", ShardStats::replaySeconds);
        gauge(
                sb,
                all,
                "tsdb_wal_replay_records_per_second",
                "Record rate of the last replay.",
                ShardStats::replayRecordsPerSecond);
        gauge(
                sb,
                all,
                "tsdb_wal_shard_failed",
                "1 when the shard refuses writes after an I/O failure.",
                s -> s.failed ? 1 : 0);
        return sb.toString();
    }

    private interface Figure {
        double of(ShardStats s);
    }

    private interface Hist {
        Histogram of(ShardStats s);
    }

    private static String label(ShardStats s) {
        return s.shard < 0 ? "total" : String.valueOf(s.shard);
    }

    private static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return String.valueOf((long) v);
        return Double.toString(v);
    }

    private static void counter(StringBuilder sb, List<ShardStats> all, String name, String help, Figure f) {
        family(sb, all, name, help, "counter", f);
    }

    private static void gauge(StringBuilder sb, List<ShardStats> all, String name, String help, Figure f) {
        family(sb, all, name, help, "gauge", f);
    }

    private static void family(
            StringBuilder sb, List<ShardStats> all, String name, String help, String type, Figure f) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        for (ShardStats s : all) {
            sb.append(name)
                    .append("{shard=\"")
                    .append(label(s))
                    .append("\"} ")
                    .append(num(f.of(s)))
                    .append('\n');
        }
    }

    private static void summary(StringBuilder sb, List<ShardStats> all, String name, String help, Hist h, double[] qs) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(" summary\n");
        for (ShardStats s : all) {
            Histogram hist = h.of(s);
            for (double q : qs) {
                sb.append(name)
                        .append("{shard=\"")
                        .append(label(s))
                        .append("\",quantile=\"")
                        .append(num(q))
                        .append("\"} ")
                        .append(num(hist.getValueAtPercentile(q * 100) / 1e9))
                        .append('\n');
            }
            sb.append(name)
                    .append("_sum{shard=\"")
                    .append(label(s))
                    .append("\"} ")
                    .append(num(hist.getMean() * hist.getTotalCount() / 1e9))
                    .append('\n');
            sb.append(name)
                    .append("_count{shard=\"")
                    .append(label(s))
                    .append("\"} ")
                    .append(hist.getTotalCount())
                    .append('\n');
        }
    }
}
