package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tsdb.core.chunk.Chunk;
import io.tsdb.testing.Fuzz;
import io.tsdb.testing.Gen;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Mutational fuzzing of {@link HeadChunkLog#load}: the log is a cache of the WAL, so damage is never
 * an exception: load repairs the file (truncates it at the first bad record or deletes it) and
 * reports a problem. Pass: no exception at all, and a second load of the repaired file finds no
 * problem and the same entries. The header CRC, every record CRC and every chunk CRC are repaired
 * in 3 of 4 inputs, so damage reaches the chunk decoder and the chain checks.
 * Found inputs: {@code fuzz-corpus/head-chunk-log/}.
 */
class HeadChunkLogFuzzTest {
    static final String DECODER = "head-chunk-log";
    static final List<Class<? extends Throwable>> ALLOWED = List.of();
    static final int SHARD = 2;
    static final int SHARDS = 4;
    static Path root;

    @BeforeAll
    static void createDir() throws IOException {
        root = Fuzz.tempDir("tsdb-fuzz-hc");
    }

    @AfterAll
    static void deleteDir() {
        Fuzz.deleteTree(root);
    }

    /** A valid log file: 1..4 appends of 1..6 sealed chunks of series of shard 2 of 4, chained per series. */
    static byte[] valid(Gen g) {
        Path r = root.resolve("valid");
        Fuzz.deleteTree(r);
        try {
            HeadChunkLog.Writer w = new HeadChunkLog.Writer(r, SHARD, SHARDS, g.nextBoolean(), new TreeMap<>());
            int seriesCount = g.intBetween(1, 4);
            long[] last = new long[seriesCount];
            for (int s = 0; s < seriesCount; s++) {
                last[s] = g.longBetween(-1000, 1L << 40);
            }
            long walEnd = g.longBetween(1, 1000);
            for (int a = g.intBetween(1, 4); a > 0; a--) {
                int n = g.intBetween(1, 6);
                int[] refs = new int[n];
                long[] prev = new long[n];
                Chunk[] chunks = new Chunk[n];
                for (int i = 0; i < n; i++) {
                    int s = g.nextInt(seriesCount);
                    refs[i] = SHARD + SHARDS * s;
                    prev[i] = last[s];
                    chunks[i] = CheckpointFuzzTest.chunk(g, last[s], Chunk.TARGET_SAMPLES);
                    chunks[i].seal();
                    last[s] = chunks[i].maxTime();
                }
                w.append(refs, prev, chunks, n, walEnd);
                walEnd += g.intBetween(0, 500);
            }
            w.close();
            Path f = HeadChunkLog.file(HeadChunkLog.shardDir(r, SHARD), 0);
            return Files.readAllBytes(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Repairs the header CRC and, while the record lengths allow, each chunk's and each record's CRC. */
    static byte[] fixChecksum(byte[] b) {
        int h = HeadChunkLog.HEADER_BYTES;
        if (b.length < h) {
            return b;
        }
        Fuzz.putCrc32c(b, 0, h - 4);
        int pos = h;
        while (pos + 4 <= b.length) {
            int bodyLen = HeadChunkLog.getInt(b, pos);
            if (bodyLen < HeadChunkLog.RECORD_FIXED - 4 || (long) pos + 4 + bodyLen + 4 > b.length) {
                break;
            }
            int chunkFrom = pos + HeadChunkLog.RECORD_FIXED;
            int chunkEnd = pos + 4 + bodyLen;
            if (chunkEnd - chunkFrom >= 4) {
                Fuzz.putCrc32c(b, chunkFrom, chunkEnd - 4);
            }
            Fuzz.putCrc32c(b, pos, chunkEnd);
            pos = chunkEnd + 4;
        }
        return b;
    }

    static void decode(byte[] in) throws IOException {
        Path r = root.resolve("load");
        Fuzz.deleteTree(r);
        Path sd = HeadChunkLog.shardDir(r, SHARD);
        Files.createDirectories(sd);
        Files.write(HeadChunkLog.file(sd, 0), in);
        // walLimit/coveredBelow from the input itself, so that some inputs cut at the WAL's end or skip covered records
        long walLimit = in.length % 3 == 0 ? 700 : Long.MAX_VALUE;
        long covered = in.length % 5 == 0 ? 300 : -1;
        HeadChunkLog.Loaded first = HeadChunkLog.load(r, SHARD, SHARDS, walLimit, covered);
        HeadChunkLog.Loaded again = HeadChunkLog.load(r, SHARD, SHARDS, walLimit, covered);
        assertEquals(List.of(), again.problems, "the repaired log still has problems; first load: " + first.problems);
        assertEquals(first.entries, again.entries);
        assertEquals(first.files, again.files);
        for (List<HeadChunkLog.Entry> es : first.byRef.values()) {
            for (HeadChunkLog.Entry e : es) {
                assertEquals(SHARD, e.ref() % SHARDS);
            }
        }
    }

    @Test
    void damagedLogsAreRepairedWithoutExceptions() {
        Fuzz.run(
                DECODER,
                800,
                HeadChunkLogFuzzTest::valid,
                HeadChunkLogFuzzTest::fixChecksum,
                HeadChunkLogFuzzTest::decode,
                ALLOWED);
    }

    @TestFactory
    Stream<DynamicTest> corpus() {
        return Fuzz.corpus(getClass(), DECODER, HeadChunkLogFuzzTest::decode, ALLOWED);
    }
}
