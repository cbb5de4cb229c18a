package io.tsdb.bench.jmh;

import io.tsdb.wal.BlockCodec;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
 * Encoding and decoding of one WAL block ({@link BlockCodec}) holding {@code records} sample-like
 * records of {@code recordBytes} bytes, with and without LZ4. Score: blocks per second; raw MB/s =
 * score x records x recordBytes / 1e6.
 *
 * <pre>java -jar tsdb-bench/target/benchmarks.jar BlockCodecBenchmark</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class BlockCodecBenchmark {

    @Param({"64", "256"})
    public int recordBytes;

    @Param({"256"})
    public int records;

    @Param({"true", "false"})
    public boolean lz4;

    private byte[] payload;
    private int payloadLength;
    private final BlockCodec.Encoder encoder = new BlockCodec.Encoder();
    private final BlockCodec.Decoder decoder = new BlockCodec.Decoder();
    private final BlockCodec.Header header = new BlockCodec.Header();
    private ByteBuffer block;
    private long sink;

    @Setup
    public void setup() {
        SplittableRandom rnd = new SplittableRandom(1);
        payload = new byte[records * (recordBytes + BlockCodec.varintSize(recordBytes))];
        ByteBuffer rec = ByteBuffer.allocate(recordBytes);
        int at = 0;
        long ts = 1_700_000_000_000L;
        for (int i = 0; i < records; i++) {
            rec.clear();
            int series = rnd.nextInt(10_000);
            while (rec.remaining() >= 20) {
                rec.putInt(series).putLong(ts).putLong(123_456_789L + 1000L * i);
                ts += 15_000;
            }
            at = BlockCodec.putVarint(payload, at, recordBytes);
            System.arraycopy(rec.array(), 0, payload, at, recordBytes);
            at += recordBytes;
        }
        payloadLength = at;
        int len = encoder.encode(payload, payloadLength, 0, 0, records, 0, ts, lz4);
        block = ByteBuffer.wrap(java.util.Arrays.copyOf(encoder.out(), len));
    }

    @Benchmark
    public int encode() {
        return encoder.encode(payload, payloadLength, 0, 0, records, 0, 1, lz4);
    }

    @Benchmark
    public long decode() throws Exception {
        String why = decoder.parseHeader(block, 0, block.limit(), header);
        if (why != null) {
            throw new IllegalStateException(why);
        }
        sink = 0;
        decoder.decode(block, 0, header, 0, (offset, r) -> sink += r.remaining());
        return sink;
    }
}
