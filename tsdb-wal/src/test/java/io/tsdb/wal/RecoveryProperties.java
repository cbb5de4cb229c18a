package io.tsdb.wal;

import static org.junit.jupiter.api.Assertions.*;

import io.tsdb.testing.Gen;
import io.tsdb.testing.Seeds;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** For any append sequence and any crash point (the log cut at any byte), recovery yields exactly the records of the complete blocks, in order. */
class RecoveryProperties {

    /** 1..12 batches of 1..8 record lengths in [0, 300]. */
    static List<List<Integer>> batches(Gen g) {
        return g.listOf(1, 12, x -> x.listOf(1, 8, y -> y.intBetween(0, 300)));
    }

    /** A cut point in [0, 1]; edges: 0 and 1 (an empty and an intact segment). */
    static double cutAt(Gen g) {
        return g.edge() ? g.oneOf(0.0, 1.0) : g.nextDouble();
    }

    static byte[] content(long offset, int len) {
        byte[] a = new byte[len];
        for (int i = 0; i < len; i++) a[i] = (byte) (offset * 31 + i * 7 + (i % 13 == 0 ? offset : 0));
        return a;
    }

    @Test
    void recoveryAfterCutKeepsExactlyTheCompleteBlocks() {
        Seeds.check(60, g -> recoveryAfterCut(batches(g), cutAt(g), g.bool()));
    }

    private static void recoveryAfterCut(List<List<Integer>> batches, double cutAt, boolean compress) throws Exception {
        Path root = Files.createTempDirectory("walcut");
        try {
            Path live = root.resolve("live");
            Path crash = root.resolve("crash");
            WalOptions o = WalOptions.builder()
                    .shards(1)
                    .durability(Durability.PAGE_CACHE)
                    .compression(compress)
                    .flushInterval(java.time.Duration.ofHours(1))
                    .build();
            List<byte[]> written = new ArrayList<>();
            List<Integer> recordsPerBlock = new ArrayList<>();
            try (ShardedWAL wal = ShardedWAL.open(live, o)) {
                for (List<Integer> b : batches) {
                    List<ByteBuffer> recs = new ArrayList<>();
                    for (int len : b) {
                        byte[] c = content(written.size() + recs.size(), len);
                        recs.add(ByteBuffer.wrap(c));
                    }
                    long last = wal.appendBatch(0, recs, 0, 1);
                    assertEquals(written.size() + recs.size() - 1, last);
                    for (ByteBuffer r : recs) written.add(r.array());
                    recordsPerBlock.add(recs.size());
                }
                TestFiles.copyTree(live, crash); // crash image: written to the OS, never fsynced
            }
            Path seg = TestFiles.segments(crash.resolve("shard-000")).get(0);
            byte[] bytes = Files.readAllBytes(seg);
            List<Long> bounds = TestFiles.blockBoundaries(bytes);
            assertEquals(batches.size() + 1, bounds.size());
            long cut = Math.round(cutAt * bytes.length);
            try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
                ch.truncate(cut);
            }
            int completeBlocks = 0;
            while (completeBlocks < batches.size() && bounds.get(completeBlocks + 1) <= cut) completeBlocks++;
            int expectedRecords = 0;
            for (int i = 0; i < completeBlocks; i++) expectedRecords += recordsPerBlock.get(i);
            boolean atBoundary = bounds.contains(cut);

            try (ShardedWAL wal = ShardedWAL.open(crash, WalOptions.builder().build())) {
                List<byte[]> got = new ArrayList<>();
                List<Long> offs = new ArrayList<>();
                wal.replay(
                        i -> (off, b) -> {
                            byte[] a = new byte[b.remaining()];
                            b.get(a);
                            got.add(a);
                            offs.add(off);
                        },
                        null,
                        1);
                assertEquals(expectedRecords, got.size());
                for (int i = 0; i < got.size(); i++) {
                    assertEquals(i, offs.get(i));
                    assertArrayEquals(written.get(i), got.get(i));
                }
                assertEquals(expectedRecords, wal.nextOffset(0));
                assertEquals(
                        atBoundary,
                        wal.recoveryReport().count(RecoveryReport.Kind.TORN_TAIL_TRUNCATED) == 0,
                        wal.recoveryReport().toString());
                assertEquals(0, wal.recoveryReport().count(RecoveryReport.Kind.CORRUPT_BLOCK_SKIPPED));
                assertEquals(expectedRecords, wal.append(1, ByteBuffer.wrap(new byte[] {1, 2, 3}), 5));
            }
            try (ShardedWAL wal = ShardedWAL.open(crash, WalOptions.builder().build())) {
                assertTrue(wal.recoveryReport().clean(), wal.recoveryReport().toString());
                assertEquals(expectedRecords + 1, wal.nextOffset(0));
            }
        } finally {
            TestFiles.deleteTree(root);
        }
    }
}
