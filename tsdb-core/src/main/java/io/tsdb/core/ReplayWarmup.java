package io.tsdb.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToLongFunction;

/**
 * Primes the JIT's branch profiles of the replay path (record decode, {@link HeadPartition}'s
 * replay loop, {@link MemSeries#appendReplay}, the chunk encoder) once per JVM, on a throwaway
 * partition fed with synthetic records, before a large WAL replay starts.
 *
 * <p>Why: on a real WAL, events that are rare per sample (chunk cuts every 120 samples, a buffer
 * growth, a counter reset, a timestamp jitter, an integer chunk switching to XOR) happen for all
 * series at about the same point of the log. Code compiled before the first such event treats its
 * branch as never taken; when it happens the compiled replay loop (with the encoder inlined, ~10 KB
 * of bytecode) is thrown away and recompiled, several times, each C2 compile costing hundreds of
 * milliseconds of CPU on the 2-core machines this engine targets (measured with JFR
 * {@code jdk.Compilation}: replaySamples compiled 8 times during one cold 30 M-sample replay).
 * Running every branch a few hundred times first (12,800 synthetic samples: ~20 ms warm, ~0.1-0.2 s
 * in a cold JVM, run on its own thread while the WAL recovers) leaves the real replay with about
 * one compilation per method. It changes no state outside the throwaway partition.
 */
final class ReplayWarmup {
    private static final AtomicBoolean DONE = new AtomicBoolean();
    /** {@code -Dtsdb.replayWarmup=false} turns the warm-up off (for A/B measurements). */
    private static final boolean ENABLED = !"false".equalsIgnoreCase(System.getProperty("tsdb.replayWarmup"));

    private static final int SHARDS = 4;
    private static final int SERIES = 16;
    private static final int SCRAPES = 800;

    private ReplayWarmup() {}

    /**
     * Starts the warm-up on a daemon thread (once per JVM) if the store's WAL holds at least
     * {@code minWalBytes}. It overlaps the WAL's recovery and is never waited for: the replay
     * starts when recovery ends (blocking on the warm-up measured worse under heavy machine load,
     * and its branch counts reach the profiles long before the replay loop's C2 compilation).
     */
    static void startIfWorthwhile(Path walDir, long minWalBytes, ToLongFunction<Labels> hashFn) {
        if (DONE.get() || !ENABLED || walBytes(walDir, minWalBytes) < minWalBytes || !DONE.compareAndSet(false, true)) {
            return;
        }
        Thread t = new Thread(
                () -> {
                    try {
                        run(hashFn);
                    } catch (RuntimeException | Error e) {
                        // best effort: a failure here only means a slower first replay
                    }
                },
                "tsdb-replay-warmup");
        t.setDaemon(true);
        t.start();
    }

    /** Bytes of the WAL's segment files, counted until {@code enough} is reached (0 if unreadable). */
    private static long walBytes(Path walDir, long enough) {
        long total = 0;
        try (DirectoryStream<Path> shards = Files.newDirectoryStream(walDir)) {
            for (Path shard : shards) {
                if (!Files.isDirectory(shard)) {
                    continue;
                }
                try (DirectoryStream<Path> files = Files.newDirectoryStream(shard, "*.log")) {
                    for (Path f : files) {
                        total += Files.size(f);
                        if (total >= enough) {
                            return total;
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return total;
        }
        return total;
    }

    static long run(ToLongFunction<Labels> hashFn) {
        HeadPartition p = new HeadPartition(0, SHARDS, new AtomicInteger(), Integer.MAX_VALUE, () -> {}, 0);
        ByteSink out = new ByteSink(4096);
        RecordCodec.beginSeries(out);
        for (int i = 0; i < SERIES; i++) {
            RecordCodec.addSeries(out, i * SHARDS, Labels.of("__name__", "warmup", "series", Integer.toString(i)));
        }
        RecordCodec.endSeries(out, SERIES);
        long offset = 0;
        p.replayRecord(offset++, ByteBuffer.wrap(out.buf, 0, out.pos), hashFn);

        int[] refs = new int[SERIES];
        long[] ts = new long[SERIES];
        long[] bits = new long[SERIES];
        long[] t = new long[SERIES];
        long[] counter = new long[SERIES];
        long seed = 0x9E3779B97F4A7C15L;
        for (int k = 0; k < SCRAPES; k++) {
            for (int i = 0; i < SERIES; i++) {
                seed = seed * 6364136223846793005L + 1442695040888963407L;
                long r = seed >>> 17;
                // timestamps: regular for half the series, jitter of every delta-of-delta size for the rest
                long step = 15_000;
                if (i >= SERIES / 2) {
                    switch ((int) (r % 5)) {
                        case 0 -> step += r % 100;
                        case 1 -> step += 10_000 + r % 50_000;
                        case 2 -> step += 70_000 + r % 400_000;
                        case 3 -> step += 600_000 + r % 5_000_000;
                        default -> {}
                    }
                }
                t[i] += step;
                double v;
                switch (i % 4) {
                    case 0 -> { // counter with periodic resets (integer encoding)
                        counter[i] = (k % 100 == 0) ? 123_456_789 : counter[i] + 1000;
                        v = counter[i];
                    }
                    case 1 -> { // integer random walk with steps of every size
                        counter[i] += (r & 1) == 0 ? (r % 7) : (r % 3_000_000) - 1_500_000;
                        v = counter[i];
                    }
                    case 2 -> v = (r % 10) == 0 ? (r % 1000) / 8.0 : (double) (r % 1000); // integers, sometimes not
                    default ->
                        v = (r % 3 == 0) ? 0.5 : Double.longBitsToDouble(0x3FF0000000000000L | (r & 0xFFFFFFFFFFFL));
                }
                refs[i] = i * SHARDS;
                ts[i] = t[i];
                bits[i] = Double.doubleToRawLongBits(v);
            }
            RecordCodec.encodeSamples(out, refs, ts, bits, 0, SERIES);
            p.replayRecord(offset++, ByteBuffer.wrap(out.buf, 0, out.pos), hashFn);
        }
        p.finishReplay();
        return p.replayCounts().samples();
    }
}
