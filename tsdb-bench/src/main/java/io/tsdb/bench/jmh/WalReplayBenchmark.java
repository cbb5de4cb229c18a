package io.tsdb.bench.jmh;

import io.tsdb.bench.util.ProcStats;
import io.tsdb.wal.Durability;
import io.tsdb.wal.ReplayResult;
import io.tsdb.wal.ShardedWAL;
import io.tsdb.wal.WalOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Parallel replay of a sharded WAL holding {@value #RECORDS} sample-like records (a series ref,
 * a timestamp and a value, little entropy, like the engine's samples records), written with
 * compression on. The handler reads every byte (sums them as longs) so that nothing is skipped. Score:
 * records per second; raw MB/s = score x recordBytes / 1e6.
 *
 * <pre>java -jar tsdb-bench/target/benchmarks.jar WalReplayBenchmark</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xmx1g", "-XX:+UseParallelGC"})
public class WalReplayBenchmark {
    static final int RECORDS = 1_000_000;

    @Param({"1", "4", "16"})
    public int shards;

    @Param({"64", "256"})
    public int recordBytes;

    private Path dir;
    private ShardedWAL wal;

    @Setup(Level.Trial)
    public void write() throws IOException {
        dir = Files.createTempDirectory("tsdb-jmh-replay-");
        wal = ShardedWAL.open(
                dir,
                WalOptions.builder().shards(shards).durability(Durability.ASYNC).build());
        SplittableRandom rnd = new SplittableRandom(42);
        ByteBuffer rec = ByteBuffer.allocate(recordBytes);
        long[] values = new long[10_000];
        for (int i = 0; i < RECORDS; i++) {
            int series = rnd.nextInt(values.length);
            values[series] += 1000;
            rec.clear();
            long ts = 1_700_000_000_000L + i * 15L;
            while (rec.remaining() >= 20) {
                rec.putInt(series).putLong(ts).putLong(values[series]);
                ts += 15_000;
            }
            while (rec.hasRemaining()) {
                rec.put((byte) 0);
            }
            rec.flip();
            wal.append(series, rec, ts);
        }
        wal.flush();
        io.tsdb.wal.WalStats.ShardStats t = wal.stats().total();
        System.out.printf(
                java.util.Locale.ROOT,
                "%n[setup] %d records of %d B: %d raw bytes, %d stored bytes, %.3f stored per raw byte, %d bytes on disk%n",
                RECORDS,
                recordBytes,
                t.rawBytes(),
                t.storedBytes(),
                t.compressionRatio(),
                wal.diskBytes());
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        wal.close();
        ProcStats.deleteRecursively(dir);
    }

    @Benchmark
    @OperationsPerInvocation(RECORDS)
    public long replayAllShards() throws IOException {
        LongAdder sum = new LongAdder();
        ReplayResult r = wal.replay(
                shard -> (offset, record) -> {
                    long s = 0;
                    while (record.remaining() >= 8) {
                        s += record.getLong();
                    }
                    while (record.hasRemaining()) {
                        s += record.get();
                    }
                    sum.add(s);
                },
                null,
                Runtime.getRuntime().availableProcessors());
        if (r.records() != RECORDS) {
            throw new IllegalStateException("replayed " + r.records() + " records, expected " + RECORDS);
        }
        return sum.sum();
    }
}
