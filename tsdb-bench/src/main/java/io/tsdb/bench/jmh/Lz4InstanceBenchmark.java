package io.tsdb.bench.jmh;

import io.tsdb.wal.BlockCodec;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * lz4-java's JNI instance against its pure-Java one on the payload of one ~64 KiB WAL block: the
 * fast compressor the WAL writer uses and the safe decompressor recovery and replay use (the calls
 * {@link BlockCodec} makes, without the CRC and framing around them). Chooses the instance
 * {@code BlockCodec} should take (docs/dependencies.md, the lz4-java line): the JNI one extracts a
 * native library into {@code java.io.tmpdir} that a killed JVM leaves behind.
 *
 * <p>{@code payload=samples}: the records tsdb-core writes on ingest (a SAMPLES record per scrape
 * of 512 series: zig-zag ref deltas, timestamp deltas, XOR'd value bits), framed as WAL records;
 * {@code payload=synthetic}: the fixed-width sample-like records of {@link BlockCodecBenchmark}.
 * Score: payloads per second; raw MB/s = score x {@code payloadBytes} / 1e6 (printed by setup).
 *
 * <pre>java -jar tsdb-bench/target/benchmarks.jar Lz4InstanceBenchmark -wi 3 -i 5 -f 1</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class Lz4InstanceBenchmark {

    /** {@code native}: {@link LZ4Factory#nativeInstance()}; {@code java}: {@link LZ4Factory#fastestJavaInstance()}. */
    @Param({"native", "java"})
    public String impl;

    @Param({"samples", "synthetic"})
    public String payload;

    /** Target payload size: a WAL block of a busy shard (maxBatchBytes is 1 MiB, scrapes fill ~64 KiB). */
    static final int TARGET_BYTES = 64 << 10;

    private LZ4Compressor compressor;
    private LZ4SafeDecompressor decompressor;
    private byte[] raw;
    private int rawLength;
    private byte[] compressed;
    private int compressedLength;
    private byte[] out;

    @Setup
    public void setup() {
        LZ4Factory f = switch (impl) {
            case "native" -> LZ4Factory.nativeInstance();
            case "java" -> LZ4Factory.fastestJavaInstance();
            default -> throw new IllegalArgumentException("impl " + impl);
        };
        compressor = f.fastCompressor();
        decompressor = f.safeDecompressor();
        raw = new byte[TARGET_BYTES + (256 << 10)];
        rawLength = payload.equals("samples") ? samplesPayload(raw) : syntheticPayload(raw);
        compressed = new byte[compressor.maxCompressedLength(rawLength)];
        compressedLength = compressor.compress(raw, 0, rawLength, compressed, 0, compressed.length);
        out = new byte[rawLength];
        int n = decompressor.decompress(compressed, 0, compressedLength, out, 0, rawLength);
        if (n != rawLength || !java.util.Arrays.equals(raw, 0, rawLength, out, 0, rawLength))
            throw new IllegalStateException("round trip failed");
        System.out.printf(
                "%n%s %s: %d raw bytes, %d compressed (%.3f), factory %s%n",
                impl, payload, rawLength, compressedLength, (double) compressedLength / rawLength, f);
    }

    /** WAL records shaped as tsdb-core's SAMPLES records (RecordCodec.encodeSamples), until ~64 KiB. */
    static int samplesPayload(byte[] dst) {
        SplittableRandom rnd = new SplittableRandom(7);
        int series = 512;
        double[] value = new double[series];
        boolean[] counter = new boolean[series];
        for (int s = 0; s < series; s++) {
            counter[s] = rnd.nextInt(3) != 0;
            value[s] = counter[s] ? rnd.nextInt(1_000_000) : rnd.nextDouble() * 100;
        }
        byte[] rec = new byte[series * 25 + 16];
        long ts = 1_700_000_000_000L;
        int at = 0;
        while (at < TARGET_BYTES) {
            int p = 0;
            rec[p++] = 2; // record type
            p = uvarint(rec, p, series);
            for (int s = 0; s < series; s++) p = uvarint(rec, p, zigzag(1)); // refs 1..n: delta 1
            p = uvarint(rec, p, zigzag(ts));
            for (int s = 0; s < series; s++) p = uvarint(rec, p, zigzag(rnd.nextInt(20))); // scrape jitter, ms
            long prev = 0;
            for (int s = 0; s < series; s++) {
                if (counter[s]) value[s] += rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(500);
                else value[s] = Math.round((value[s] + rnd.nextGaussian()) * 100) / 100.0;
                long bits = Double.doubleToRawLongBits(value[s]);
                long x = bits ^ prev;
                prev = bits;
                if (x == 0) {
                    rec[p++] = 0;
                } else {
                    int lzb = Long.numberOfLeadingZeros(x) >>> 3, tzb = Long.numberOfTrailingZeros(x) >>> 3;
                    int nb = 8 - lzb - tzb;
                    rec[p++] = (byte) ((tzb << 4) | nb);
                    long y = x >>> (tzb << 3);
                    for (int k = (nb - 1) << 3; k >= 0; k -= 8) rec[p++] = (byte) (y >>> k);
                }
            }
            at = BlockCodec.putVarint(dst, at, p);
            System.arraycopy(rec, 0, dst, at, p);
            at += p;
            ts += 15_000;
        }
        return at;
    }

    /** The records of {@link BlockCodecBenchmark} (256 B each), until ~64 KiB. */
    static int syntheticPayload(byte[] dst) {
        SplittableRandom rnd = new SplittableRandom(1);
        java.nio.ByteBuffer rec = java.nio.ByteBuffer.allocate(256);
        long ts = 1_700_000_000_000L;
        int at = 0;
        for (int i = 0; at < TARGET_BYTES; i++) {
            rec.clear();
            int series = rnd.nextInt(10_000);
            while (rec.remaining() >= 20) {
                rec.putInt(series).putLong(ts).putLong(123_456_789L + 1000L * i);
                ts += 15_000;
            }
            at = BlockCodec.putVarint(dst, at, 256);
            System.arraycopy(rec.array(), 0, dst, at, 256);
            at += 256;
        }
        return at;
    }

    private static long zigzag(long v) {
        return (v << 1) ^ (v >> 63);
    }

    private static int uvarint(byte[] a, int p, long v) {
        while ((v & ~0x7FL) != 0) {
            a[p++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        a[p++] = (byte) v;
        return p;
    }

    @Benchmark
    public int compress() {
        return compressor.compress(raw, 0, rawLength, compressed, 0, compressed.length);
    }

    @Benchmark
    public int decompress() {
        return decompressor.decompress(compressed, 0, compressedLength, out, 0, rawLength);
    }
}
