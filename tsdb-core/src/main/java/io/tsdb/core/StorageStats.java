package io.tsdb.core;

import io.tsdb.wal.WalStats;
import java.util.List;
import java.util.Locale;

/**
 * A snapshot of the store's figures ({@link StorageImpl#stats()}). Immutable. Durations are in
 * seconds ({@code double}), wall-clock times in milliseconds since the epoch, sizes in bytes.
 *
 * @param shards                 WAL shards = head partitions
 * @param series                 live series in the head
 * @param samples                samples in the head
 * @param chunks                 chunks in the head (sealed + open)
 * @param headChunkBytes         encoded size of all chunks (header, payload, CRC)
 * @param headBytesPerSample     headChunkBytes / samples
 * @param walDiskBytes           bytes of all WAL segment files
 * @param samplesWritten         samples accepted since open
 * @param samplesRejected        samples rejected since open (bad input)
 * @param samplesDiscarded       samples appended but never committed since open: dropped by
 *                               {@link Appender#rollback()} or {@link Appender#close()} (which rolls back)
 * @param seriesGeneration       see {@link StorageImpl#seriesGeneration()}
 * @param replay                 what open replayed
 * @param checkpoint             checkpoint figures
 * @param wal                    the WAL's own instrumentation (may be null if unavailable)
 * @param perShard               the head figures per shard (= partition)
 */
public record StorageStats(
        int shards,
        long series,
        long samples,
        long chunks,
        long headChunkBytes,
        double headBytesPerSample,
        long walDiskBytes,
        long samplesWritten,
        long samplesRejected,
        long samplesDiscarded,
        long seriesGeneration,
        Replay replay,
        Checkpoint checkpoint,
        WalStats wal,
        List<Shard> perShard) {

    /**
     * One shard's head.
     *
     * @param shard              the shard index, {@code 0 <= shard < shards}
     * @param series             live series in the shard's head
     * @param samples            samples in the shard's head
     * @param chunks             chunks in the shard's head
     * @param headChunkBytes     encoded size of the shard's chunks
     * @param walNextOffset      the next WAL offset of the shard (-1 if the WAL could not tell)
     * @param checkpointOffset   WAL offset of the newest checkpoint written or loaded, -1 if none
     */
    public record Shard(
            int shard,
            long series,
            long samples,
            long chunks,
            long headChunkBytes,
            long walNextOffset,
            long checkpointOffset) {}

    /**
     * What open did: checkpoints loaded, then the WAL replayed.
     *
     * @param seconds             wall time of checkpoint load + WAL replay
     * @param walSeconds          wall time of the WAL replay alone
     * @param records             WAL records replayed
     * @param samples             samples applied from the WAL
     * @param samplesPerSecond    (checkpoint samples + WAL samples) / seconds
     * @param unknownRefSamples   samples whose series record was missing (counted, not applied)
     * @param corruptRecords      records that did not decode (counted, skipped)
     * @param duplicateSamples    samples equal to the series' newest (idempotent)
     * @param outOfOrderSamples   samples older than the series' newest (counted, not applied)
     * @param conflictingSeries   series records that conflict with an existing ref
     * @param firstProblem        the first problem seen, with shard and offset; null when none
     * @param walRecoveryClean    the WAL's recovery found nothing to truncate, skip or rebuild
     * @param walRecovery         the WAL's recovery report, as text
     * @param chunkLogChunks      sealed chunks attached from the head chunk log
     * @param chunkLogSamples     samples those chunks added
     * @param coveredSamples      WAL samples decoded but skipped because an attached chunk holds them
     * @param chunkLogUnattached  head chunk log chunks not used (their series' chain broke or the series is gone;
     *                            their samples came from the WAL)
     * @param chunkLogProblems    damaged or stale head chunk log records found (and truncated) on open
     */
    public record Replay(
            double seconds,
            double walSeconds,
            long records,
            long samples,
            double samplesPerSecond,
            long unknownRefSamples,
            long corruptRecords,
            long duplicateSamples,
            long outOfOrderSamples,
            long conflictingSeries,
            String firstProblem,
            boolean walRecoveryClean,
            String walRecovery,
            long chunkLogChunks,
            long chunkLogSamples,
            long coveredSamples,
            long chunkLogUnattached,
            List<String> chunkLogProblems) {}

    /**
     * Checkpoints loaded on open and written since.
     *
     * @param loaded           checkpoints loaded on open (one per shard at most)
     * @param loadedSamples    samples restored from them
     * @param loadSeconds      time spent loading them
     * @param problems         damaged checkpoints skipped on open (fallen back to an older one + WAL)
     * @param written          checkpoints written since open
     * @param lastSeconds      duration of the last checkpoint round (all shards)
     * @param lastBytes        bytes written by the last round
     * @param lastTimeMillis   wall clock of the last round's end, 0 if none
     */
    public record Checkpoint(
            int loaded,
            long loadedSamples,
            double loadSeconds,
            List<String> problems,
            long written,
            double lastSeconds,
            long lastBytes,
            long lastTimeMillis) {}

    /** {@return the figures in the Prometheus text exposition format (WAL figures appended when available)} */
    public String toPrometheusText() {
        StringBuilder sb = new StringBuilder(2048);
        gauge(sb, "tsdb_head_series", "Live series in the head.", series);
        gauge(sb, "tsdb_head_samples", "Samples in the head.", samples);
        gauge(sb, "tsdb_head_chunks", "Chunks in the head.", chunks);
        gauge(sb, "tsdb_head_chunk_bytes", "Encoded bytes of all head chunks.", headChunkBytes);
        gauge(sb, "tsdb_head_bytes_per_sample", "Head chunk bytes per sample.", headBytesPerSample);
        gauge(sb, "tsdb_wal_disk_bytes", "Bytes of WAL segment files.", walDiskBytes);
        counter(sb, "tsdb_samples_written_total", "Samples accepted since open.", samplesWritten);
        counter(sb, "tsdb_samples_rejected_total", "Samples rejected since open.", samplesRejected);
        gauge(sb, "tsdb_series_generation", "Changes whenever a series is added or removed.", seriesGeneration);
        gauge(sb, "tsdb_replay_seconds", "Wall time of open: checkpoint load and WAL replay.", replay.seconds());
        gauge(sb, "tsdb_replay_wal_seconds", "Wall time of the WAL replay.", replay.walSeconds());
        gauge(sb, "tsdb_replay_samples", "Samples replayed from the WAL on open.", replay.samples());
        gauge(sb, "tsdb_replay_samples_per_second", "Samples restored per second on open.", replay.samplesPerSecond());
        gauge(
                sb,
                "tsdb_replay_unknown_ref_samples",
                "Replayed samples without a series record.",
                replay.unknownRefSamples());
        gauge(sb, "tsdb_replay_corrupt_records", "WAL records that did not decode on open.", replay.corruptRecords());
        gauge(
                sb,
                "tsdb_replay_out_of_order_samples",
                "Replayed samples older than their series' newest.",
                replay.outOfOrderSamples());
        gauge(
                sb,
                "tsdb_replay_chunk_log_chunks",
                "Sealed chunks attached from the head chunk log on open.",
                replay.chunkLogChunks());
        gauge(
                sb,
                "tsdb_replay_covered_samples",
                "WAL samples decoded on open but already held by attached chunks.",
                replay.coveredSamples());
        gauge(
                sb,
                "tsdb_replay_chunk_log_problems",
                "Damaged or stale head chunk log records truncated on open.",
                replay.chunkLogProblems().size());
        gauge(sb, "tsdb_checkpoints_loaded", "Checkpoints loaded on open.", checkpoint.loaded());
        gauge(
                sb,
                "tsdb_checkpoint_damaged",
                "Damaged checkpoints skipped on open.",
                checkpoint.problems().size());
        counter(sb, "tsdb_checkpoints_written_total", "Checkpoint rounds written since open.", checkpoint.written());
        gauge(sb, "tsdb_checkpoint_last_seconds", "Duration of the last checkpoint round.", checkpoint.lastSeconds());
        gauge(sb, "tsdb_checkpoint_last_bytes", "Bytes written by the last checkpoint round.", checkpoint.lastBytes());
        if (perShard != null && !perShard.isEmpty()) {
            sb.append("# HELP tsdb_shard_head_series Live series per shard.\n# TYPE tsdb_shard_head_series gauge\n");
            for (Shard sh : perShard) {
                sb.append("tsdb_shard_head_series{shard=\"")
                        .append(sh.shard())
                        .append("\"} ")
                        .append(sh.series())
                        .append('\n');
            }
            sb.append("# HELP tsdb_shard_head_samples Samples per shard.\n# TYPE tsdb_shard_head_samples gauge\n");
            for (Shard sh : perShard) {
                sb.append("tsdb_shard_head_samples{shard=\"")
                        .append(sh.shard())
                        .append("\"} ")
                        .append(sh.samples())
                        .append('\n');
            }
        }
        if (wal != null) {
            try {
                sb.append(wal.toPrometheusText());
            } catch (RuntimeException e) {
                sb.append("# WAL stats unavailable: ").append(e.getMessage()).append('\n');
            }
        }
        return sb.toString();
    }

    private static void gauge(StringBuilder sb, String name, String help, double v) {
        metric(sb, name, help, "gauge", v);
    }

    private static void counter(StringBuilder sb, String name, String help, double v) {
        metric(sb, name, help, "counter", v);
    }

    private static void metric(StringBuilder sb, String name, String help, String type, double v) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        sb.append(name).append(' ');
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            sb.append((long) v);
        } else {
            sb.append(String.format(Locale.ROOT, "%.6g", v));
        }
        sb.append('\n');
    }
}
