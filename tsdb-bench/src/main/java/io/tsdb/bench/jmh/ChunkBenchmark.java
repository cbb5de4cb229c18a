package io.tsdb.bench.jmh;

import io.tsdb.core.SampleIterator;
import io.tsdb.core.chunk.Chunk;
import java.util.Random;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Append and iteration cost of one full chunk ({@link Chunk#TARGET_SAMPLES} samples), reported per
 * sample. Workloads: {@code promtool} (value += 1000 each 30 s, INT_DOD), {@code gauge} (jittered
 * timestamps, float values, XOR), {@code switch} (integers for half the chunk, then floats: pays the
 * INT_DOD to XOR re-encoding). The bytes/sample of each workload is printed at setup.
 *
 * <pre>java -jar tsdb-bench/target/benchmarks.jar ChunkBenchmark</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ChunkBenchmark {
    private static final int N = Chunk.TARGET_SAMPLES;

    @Param({"promtool", "gauge", "switch"})
    public String workload;

    private final long[] ts = new long[N];
    private final double[] vs = new double[N];
    private Chunk full;

    @Setup(Level.Trial)
    public void setup() {
        Random r = new Random(1);
        long t = 1_700_000_000_000L;
        double g = 100;
        for (int k = 0; k < N; k++) {
            switch (workload) {
                case "promtool" -> {
                    ts[k] = t + 30_000L * k;
                    vs[k] = 123456789 + 1000.0 * k;
                }
                case "gauge" -> {
                    t += 15_000 + r.nextInt(11) - 5;
                    ts[k] = t;
                    g += r.nextGaussian();
                    vs[k] = Math.round(g * 100) / 100.0;
                }
                case "switch" -> {
                    ts[k] = t + 30_000L * k;
                    vs[k] = k < N / 2 ? 1000.0 * k : k * 0.5 + 0.25;
                }
                default -> throw new IllegalArgumentException("unknown workload " + workload);
            }
        }
        full = fill();
        full.seal();
        System.out.printf("%n[%s] %s, %.3f bytes/sample%n", workload, full, (double) full.sizeBytes() / N);
    }

    private Chunk fill() {
        Chunk c = Chunk.create();
        for (int k = 0; k < N; k++) {
            c.append(ts[k], vs[k]);
        }
        return c;
    }

    /** Create a chunk and append 120 samples; time per sample. */
    @Benchmark
    @OperationsPerInvocation(N)
    public Chunk append() {
        return fill();
    }

    /** Decode all 120 samples of a sealed chunk; time per sample. */
    @Benchmark
    @OperationsPerInvocation(N)
    public void iterate(Blackhole bh) {
        SampleIterator it = full.iterator();
        long ts = 0;
        double sum = 0;
        while (it.next()) {
            ts += it.timestamp();
            sum += it.value();
        }
        bh.consume(ts);
        bh.consume(sum);
    }

    /** Serialise and validate-decode (checkpoint write + load); time per sample. */
    @Benchmark
    @OperationsPerInvocation(N)
    public Chunk toBytesFromBytes() {
        byte[] b = full.toBytes();
        return Chunk.fromBytes(b, 0, b.length);
    }
}
