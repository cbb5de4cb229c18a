package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.core.chunk.Chunk;
import io.tsdb.testing.Fuzz;
import io.tsdb.testing.Gen;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Mutational fuzzing of {@link Checkpoints#read}: damaged checkpoints (the trailing CRC32C repaired
 * in 3 of 4 inputs, so the damage reaches the series, label and chunk decoding) fail only with
 * {@link CorruptRecordException} or {@link IOException}; a checkpoint that reads holds series of
 * its shard whose last chunk ends at their last timestamp. Found inputs: {@code fuzz-corpus/checkpoint/}.
 */
class CheckpointFuzzTest {
    static final String DECODER = "checkpoint";
    static final List<Class<? extends Throwable>> ALLOWED = List.of(CorruptRecordException.class, IOException.class);
    static final int SHARD = 1;
    static final int SHARDS = 3;
    static Path dir;

    @BeforeAll
    static void createDir() throws IOException {
        dir = Fuzz.tempDir("tsdb-fuzz-ckpt");
    }

    @AfterAll
    static void deleteDir() {
        Fuzz.deleteTree(dir);
    }

    /** A chunk of 1..n samples from t (strictly increasing), integer or float values. */
    static Chunk chunk(Gen g, long t, int max) {
        Chunk c = Chunk.create();
        int n = g.intBetween(1, max);
        boolean ints = g.nextBoolean();
        for (int i = 0; i < n; i++) {
            t += 1 + g.nextInt(g.nextBoolean() ? 30_000 : 3);
            c.append(t, ints ? g.nextInt(1000) : g.anyDouble());
        }
        return c;
    }

    /** A valid checkpoint file (format version 1 or 2) of 0..5 series with 0..3 sealed chunks each. */
    static byte[] valid(Gen g) {
        List<Checkpoints.SeriesSnapshot> series = new ArrayList<>();
        int n = g.intBetween(0, 5);
        for (int i = 0; i < n; i++) {
            long t = g.longBetween(-1_000_000, 1L << 42);
            int sealedCount = g.intBetween(0, 3);
            Chunk[] sealed = new Chunk[sealedCount];
            for (int j = 0; j < sealedCount; j++) {
                sealed[j] = chunk(g, t, Chunk.TARGET_SAMPLES);
                sealed[j].seal();
                t = sealed[j].maxTime();
            }
            Chunk open = chunk(g, t, 40);
            Labels l = Labels.of("__name__", "m" + i, "job", g.string("abcxyz\"\\é€", 1, 12));
            series.add(new Checkpoints.SeriesSnapshot(
                    SHARD + SHARDS * i,
                    l,
                    open.maxTime(),
                    Double.doubleToRawLongBits(open.lastValue()),
                    sealed,
                    open.toBytes()));
        }
        long walOffset = g.longBetween(0, 1L << 40);
        try {
            Path sd = dir.resolve("valid");
            Checkpoints.write(
                    sd,
                    new Checkpoints.PartitionSnapshot(SHARD, SHARDS, walOffset, n, series),
                    g.nextInt(4) == 0 ? 1 : Checkpoints.VERSION);
            Path f = Checkpoints.file(sd, walOffset);
            byte[] b = Files.readAllBytes(f);
            Files.delete(f);
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Repairs, as far as the (possibly damaged) structure still parses, the CRC32C of every chunk
     * inside the checkpoint, then the file's trailing CRC32C: damage then reaches the chunk
     * decoder and the chain checks, not only the first CRC comparison.
     */
    static byte[] fixChecksum(byte[] b) {
        if (b.length < 4) {
            return b;
        }
        try {
            ByteSource in = new ByteSource(b, 0, b.length - 4);
            in.pos = Checkpoints.MAGIC.length;
            int version = in.readByte();
            in.pos += 4 + 4 + 8 + 4 + 8;
            int n = in.readInt();
            for (int i = 0; i < n && in.hasRemaining(); i++) {
                in.readInt();
                long labels = in.uvarint();
                for (long j = 0; j < 2 * labels && in.hasRemaining(); j++) {
                    long len = in.uvarint();
                    in.pos += (int) Math.min(len, in.remaining());
                }
                in.readLong();
                in.readLong();
                long nc = in.uvarint();
                for (long j = 0; j < nc && in.hasRemaining(); j++) {
                    if (version >= 2 && j < nc - 1) {
                        in.svarint();
                    }
                    long len = in.uvarint();
                    if (len < 8 || len > in.remaining()) {
                        throw new CorruptRecordException("stop");
                    }
                    Fuzz.putCrc32c(b, in.pos, in.pos + (int) len - 4);
                    in.pos += (int) len;
                }
            }
        } catch (CorruptRecordException | IndexOutOfBoundsException stop) {
            // the structure ends here: repair what was found
        }
        Fuzz.putCrc32c(b, 0, b.length - 4);
        return b;
    }

    static void decode(byte[] in) throws IOException {
        Path f = dir.resolve("ckpt-under-test");
        Files.write(f, in);
        Checkpoints.Loaded l = Checkpoints.read(f, SHARD, SHARDS);
        long samples = 0;
        for (Checkpoints.LoadedSeries s : l.series()) {
            assertEquals(SHARD, s.ref() % SHARDS, "ref of another shard");
            assertTrue(s.chunks().length > 0);
            assertEquals(s.lastT(), s.chunks()[s.chunks().length - 1].maxTime());
            for (Chunk c : s.chunks()) {
                samples += c.numSamples();
            }
        }
        assertEquals(samples, l.samples());
    }

    @Test
    void damagedCheckpointsFailOnlyWithCorruptRecordOrIOException() {
        Fuzz.run(
                DECODER,
                1500,
                CheckpointFuzzTest::valid,
                CheckpointFuzzTest::fixChecksum,
                CheckpointFuzzTest::decode,
                ALLOWED);
    }

    @TestFactory
    Stream<DynamicTest> corpus() {
        return Fuzz.corpus(getClass(), DECODER, CheckpointFuzzTest::decode, ALLOWED);
    }
}
