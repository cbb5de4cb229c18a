package io.tsdb.bench.jmh;

import io.tsdb.bench.util.ProcStats;
import io.tsdb.bench.wal.WalTarget;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Appends of one record (random 64-bit key) to the sharded WAL with 1, 4, 8, 16 shards and to
 * the single-mutex baseline ({@code shards=baseline}), at 1, 8 and 64 threads, with 64- and
 * 256-byte records, in the page-cache mode (acknowledged once written to the OS) and the fsync
 * mode (acknowledged after fsync: the sharded WAL's SYNC_BATCH group commit, the baseline's fsync
 * per record). Score: appends per second over all threads.
 *
 * <pre>java -jar tsdb-bench/target/benchmarks.jar WalAppendBenchmark</pre>
 * Restrict with JMH's {@code -p shards=baseline,16 -p mode=fsync -p recordBytes=64} and pick the
 * thread count by method name, e.g. {@code 'WalAppendBenchmark.threads64'}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {"-Xmx1g", "-XX:+UseParallelGC"})
public class WalAppendBenchmark {

    @Param({"baseline", "1", "4", "8", "16"})
    public String shards;

    @Param({"64", "256"})
    public int recordBytes;

    @Param({"page-cache", "fsync"})
    public String mode;

    private Path dir;
    private WalTarget target;

    @Setup(Level.Trial)
    public void open() throws IOException {
        dir = Files.createTempDirectory("tsdb-jmh-wal-");
        target = WalTarget.open(
                dir, shards.equals("baseline") ? 0 : Integer.parseInt(shards), WalTarget.Mode.parse(mode));
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        target.close();
        ProcStats.deleteRecursively(dir);
    }

    /** Per-thread record and key source. */
    @State(Scope.Thread)
    public static class Writer {
        private static final AtomicInteger SEEDS = new AtomicInteger();
        SplittableRandom rnd;
        ByteBuffer record;

        @Setup(Level.Trial)
        public void setup(WalAppendBenchmark b) {
            rnd = new SplittableRandom(SEEDS.incrementAndGet());
            byte[] payload = new byte[b.recordBytes];
            for (int i = 0; i < payload.length; i++) {
                payload[i] = (byte) rnd.nextInt(256);
            }
            record = ByteBuffer.wrap(payload);
        }
    }

    private long append(Writer w) throws IOException {
        w.record.clear();
        return target.append(w.rnd.nextLong(), w.record, 0);
    }

    @Benchmark
    @Threads(1)
    public long threads1(Writer w) throws IOException {
        return append(w);
    }

    @Benchmark
    @Threads(8)
    public long threads8(Writer w) throws IOException {
        return append(w);
    }

    @Benchmark
    @Threads(64)
    public long threads64(Writer w) throws IOException {
        return append(w);
    }
}
