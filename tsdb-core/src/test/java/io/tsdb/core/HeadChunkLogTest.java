package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The head chunk log: a crash image (the store directory copied while the writer is open, as a
 * kill -9 leaves it) reopens to exactly the content a full WAL replay gives, using the log's chunks
 * where they are valid and the WAL wherever the log is damaged, stale or missing.
 */
class HeadChunkLogTest {
    @TempDir
    Path tmp;

    private static StorageOptions.Builder opts() {
        return TestUtil.small();
    }

    /** Writes {@code series} series x {@code perSeries} in-order samples in scrape-shaped commits. */
    private static void scrapes(StorageImpl s, int series, int perSeries, long t0, Random r) throws IOException {
        long[] refs = new long[series];
        for (int k = 0; k < perSeries; k++) {
            Appender app = s.appender();
            for (int i = 0; i < series; i++) {
                double v = i % 3 == 0 ? k * 1000.0 : i % 3 == 1 ? r.nextDouble() : (k % 50 == 0 ? Double.NaN : k);
                refs[i] = app.append(
                        refs[i],
                        Labels.of("__name__", "m" + (i % 4), "i", Integer.toString(i)),
                        t0 + k * 15_000L + (i % 5 == 0 ? r.nextInt(100) : 0),
                        v);
            }
            app.commit();
        }
    }

    /** Flushes, moves sealed chunks to the log, and copies the open store (a killed writer's directory). */
    private Path crashImage(StorageImpl s, String name) throws IOException {
        s.flush();
        s.persistSealedChunks();
        Path img = tmp.resolve(name);
        TestUtil.copyRecursively(s.directory(), img);
        return img;
    }

    /** A crash image of a store written with {@link #scrapes}, and the live store's content at that moment. */
    private record Image(Path dir, String live) {}

    private Image scrapedImage(int series, int perSeries, long t0, long seed) throws IOException {
        try (StorageImpl s = StorageImpl.open(tmp.resolve("store"), opts().build())) {
            scrapes(s, series, perSeries, t0, new Random(seed));
            Path img = crashImage(s, "img");
            return new Image(img, TestUtil.renderStore(s));
        }
    }

    private Path copy(Path from, String name) throws IOException {
        Path to = tmp.resolve(name);
        TestUtil.copyRecursively(from, to);
        return to;
    }

    private static String reopen(Path dir, StorageOptions o) throws IOException {
        try (StorageImpl s = StorageImpl.open(dir, o)) {
            return TestUtil.renderStore(s);
        }
    }

    private static List<Path> logFiles(Path store) throws IOException {
        Path root = store.resolve(StorageImpl.CHUNK_LOG_DIR);
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> st = Files.walk(root)) {
            return st.filter(p -> p.getFileName().toString().startsWith(HeadChunkLog.PREFIX))
                    .sorted()
                    .toList();
        }
    }

    @Test
    void crashImageAttachesLoggedChunksAndEqualsTheLiveStore() throws Exception {
        Image image = scrapedImage(40, 1000, 1_000_000, 1);
        Path img = image.dir();
        String live = image.live();
        assertFalse(logFiles(img).isEmpty(), "the writer logged sealed chunks");
        Path noLog = copy(img, "img-nolog");
        try (StorageImpl s = StorageImpl.open(img, opts().build())) {
            StorageStats.Replay r = s.stats().replay();
            assertEquals(live, TestUtil.renderStore(s));
            // 40 series x 8 sealed chunks of 120 samples each were logged
            assertEquals(320, r.chunkLogChunks(), r.toString());
            assertEquals(320 * 120, r.coveredSamples(), r.toString());
            assertEquals(40 * 1000 - 320 * 120, r.samples(), r.toString());
            assertTrue(r.chunkLogProblems().isEmpty(), r.chunkLogProblems().toString());
        }
        assertEquals(live, reopen(noLog, opts().headChunkLog(false).build()), "full WAL replay gives the same");
        assertTrue(logFiles(noLog).isEmpty(), "with the log off, an existing one is deleted");
    }

    @Test
    void randomWritesAndRestartsChainAcrossReopens() throws Exception {
        for (long seed = 1; seed <= 4; seed++) {
            Path dir = tmp.resolve("s" + seed);
            Random r = new Random(seed);
            List<Labels> pool = StorageRoundTripProperties.labelPool(6);
            String live;
            Path img;
            try (StorageImpl s = StorageImpl.open(
                    dir, opts().checkpointOnClose(seed % 2 == 0).build())) {
                StorageRoundTripProperties.randomWrites(s, r, 300, pool);
                img = crashImage(s, "img" + seed);
                live = TestUtil.renderStore(s);
            }
            // the crashed image, written into again after its restart, then crashed again
            String live2;
            Path img2;
            try (StorageImpl s = StorageImpl.open(img, opts().build())) {
                assertEquals(live, TestUtil.renderStore(s), "seed " + seed);
                StorageRoundTripProperties.randomWrites(s, r, 300, pool);
                img2 = crashImage(s, "img2-" + seed);
                live2 = TestUtil.renderStore(s);
            }
            Path ref = copy(img2, "ref" + seed);
            try (StorageImpl s = StorageImpl.open(img2, opts().build())) {
                assertEquals(live2, TestUtil.renderStore(s), "seed " + seed);
                assertTrue(
                        s.stats().replay().chunkLogChunks() > 0,
                        "seed " + seed + ": " + s.stats().replay());
            }
            assertEquals(live2, reopen(ref, opts().headChunkLog(false).build()), "seed " + seed);
        }
    }

    @Test
    void damagedLogFallsBackToTheWal() throws Exception {
        Image image = scrapedImage(12, 700, 0, 2);
        Path img = image.dir();
        String live = image.live();
        List<Path> files = logFiles(img);
        assertFalse(files.isEmpty());
        Path victim = files.get(0);
        long size = Files.size(victim);
        Random r = new Random(3);
        String[] kinds = {"flip", "truncate", "garbage-tail", "zero-sector", "header", "delete", "foreign"};
        int n = 0;
        for (String kind : kinds) {
            for (int rep = 0; rep < 4; rep++) {
                Path c = copy(img, "d" + (n++));
                Path f = c.resolve(img.relativize(victim));
                long at = HeadChunkLog.HEADER_BYTES + (long) (r.nextDouble() * (size - HeadChunkLog.HEADER_BYTES));
                switch (kind) {
                    case "flip" -> {
                        byte[] b = Files.readAllBytes(f);
                        b[(int) at] ^= (byte) (1 << r.nextInt(8));
                        Files.write(f, b);
                    }
                    case "truncate" -> {
                        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                            ch.truncate(at);
                        }
                    }
                    case "garbage-tail" -> {
                        byte[] g = new byte[1 + r.nextInt(300)];
                        r.nextBytes(g);
                        Files.write(f, g, StandardOpenOption.APPEND);
                    }
                    case "zero-sector" -> {
                        byte[] b = Files.readAllBytes(f);
                        int from = (int) Math.min(at, b.length - 1);
                        java.util.Arrays.fill(b, from, Math.min(b.length, from + 512), (byte) 0);
                        Files.write(f, b);
                    }
                    case "header" -> {
                        byte[] b = Files.readAllBytes(f);
                        b[r.nextInt(HeadChunkLog.HEADER_BYTES)] ^= 0x40;
                        Files.write(f, b);
                    }
                    case "delete" -> Files.delete(f);
                    case "foreign" -> {
                        // another shard's file under this shard's name: refused by its header
                        Path other = logFiles(c).stream()
                                .filter(p -> !p.getParent().equals(f.getParent()))
                                .findFirst()
                                .orElseThrow();
                        Files.copy(other, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                    default -> throw new AssertionError(kind);
                }
                try (StorageImpl s = StorageImpl.open(c, opts().build())) {
                    assertEquals(live, TestUtil.renderStore(s), kind + " at " + at);
                    StorageStats.Replay rp = s.stats().replay();
                    if (!kind.equals("delete") && !kind.equals("truncate")) {
                        assertFalse(rp.chunkLogProblems().isEmpty(), kind + ": damage reported");
                    }
                    assertTrue(
                            rp.chunkLogProblems().stream().allMatch(p -> p.contains("shard ")),
                            rp.chunkLogProblems().toString());
                }
                // the repair is itself consistent: a second open finds nothing to repair
                try (StorageImpl s =
                        StorageImpl.open(c, opts().checkpointOnClose(false).build())) {
                    assertEquals(live, TestUtil.renderStore(s), kind + " second open");
                }
            }
        }
    }

    @Test
    void logRecordsBeyondALostWalTailAreDropped() throws Exception {
        Path img = scrapedImage(16, 900, 0, 4).dir();
        // the WAL loses its second half in every shard (a power loss without fsync); the chunk log keeps all
        try (Stream<Path> st = Files.walk(img.resolve("wal"))) {
            for (Path seg : st.filter(p -> p.toString().endsWith(".log")).toList()) {
                try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
                    ch.truncate(ch.size() / 2 + 7);
                }
            }
        }
        Path ref = copy(img, "ref");
        String expected =
                reopen(ref, opts().headChunkLog(false).checkpointOnClose(false).build());
        try (StorageImpl s =
                StorageImpl.open(img, opts().checkpointOnClose(false).build())) {
            assertEquals(expected, TestUtil.renderStore(s), "no sample the WAL lost comes back from the log");
            assertTrue(
                    s.stats().replay().chunkLogProblems().stream().anyMatch(p -> p.contains("beyond the WAL's end")),
                    s.stats().replay().chunkLogProblems().toString());
        }
        try (StorageImpl s =
                StorageImpl.open(img, opts().checkpointOnClose(false).build())) {
            assertEquals(expected, TestUtil.renderStore(s));
            assertTrue(s.stats().replay().chunkLogProblems().isEmpty(), "repaired on the first open");
        }
    }

    @Test
    void checkpointDeletesCoveredLogFiles() throws Exception {
        Path dir = tmp.resolve("store");
        String live;
        Path img;
        try (StorageImpl s = StorageImpl.open(dir, opts().build())) {
            Random r = new Random(5);
            scrapes(s, 20, 600, 0, r);
            s.flush();
            s.persistSealedChunks();
            assertFalse(logFiles(dir).isEmpty());
            s.checkpoint();
            assertTrue(logFiles(dir).isEmpty(), "every logged chunk is in the checkpoint: " + logFiles(dir));
            scrapes(s, 20, 600, 600 * 15_000L + 1, r);
            img = crashImage(s, "img");
            live = TestUtil.renderStore(s);
        }
        try (StorageImpl s = StorageImpl.open(img, opts().build())) {
            assertEquals(live, TestUtil.renderStore(s));
            StorageStats.Replay rp = s.stats().replay();
            assertEquals(1, Math.min(1, s.stats().checkpoint().loaded()));
            assertTrue(rp.chunkLogChunks() > 0 && rp.coveredSamples() > 0, rp.toString());
        }
        try (StorageImpl s = StorageImpl.open(dir, opts().build())) {
            assertEquals(live, TestUtil.renderStore(s), "clean close: checkpoint only");
        }
        assertTrue(logFiles(dir).isEmpty(), "the close checkpoint covers the whole log");
    }

    @Test
    void outOfOrderInsertsIntoLoggedChunksSurviveTheRestart() throws Exception {
        Path dir = tmp.resolve("store");
        StorageOptions o = opts().outOfOrderWindow(Duration.ofHours(10)).build();
        String live;
        Path img;
        try (StorageImpl s = StorageImpl.open(dir, o)) {
            Random r = new Random(6);
            List<TimeSeries> batch = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                List<Sample> ss = new ArrayList<>();
                for (int k = 0; k < 600; k++) {
                    ss.add(new Sample(k * 1000L, k));
                }
                batch.add(new TimeSeries(Labels.of("__name__", "ooo", "i", Integer.toString(i)), ss));
            }
            s.write(batch);
            s.flush();
            s.persistSealedChunks(); // chunks logged before the late samples arrive
            for (int k = 0; k < 200; k++) {
                int i = r.nextInt(8);
                long t = r.nextInt(600) * 1000L + 1 + r.nextInt(998); // between two stored samples
                try {
                    s.write(new TimeSeries(
                            Labels.of("__name__", "ooo", "i", Integer.toString(i)), List.of(new Sample(t, -k))));
                } catch (DuplicateSampleException e) {
                    // same t drawn twice with another value
                }
            }
            img = crashImage(s, "img");
            live = TestUtil.renderStore(s);
        }
        try (StorageImpl s = StorageImpl.open(img, o)) {
            assertEquals(live, TestUtil.renderStore(s));
        }
    }

    /**
     * Issue 8, point 6: a late sample written under a window, then replayed by a process without
     * one. That replay inserts it into a chunk it had already queued for the log; the stale copy
     * logged then must not make the next restart skip the WAL's late sample.
     */
    @Test
    void lateSampleReplayedWithoutAWindowSurvivesTheNextCrash() throws Exception {
        Path dir = tmp.resolve("store");
        StorageOptions withWindow =
                opts().shards(1).outOfOrderWindow(Duration.ofHours(1)).build();
        Labels l = Labels.of("__name__", "late", "job", "a");
        String live;
        Path first;
        try (StorageImpl s =
                StorageImpl.open(dir, withWindow.toBuilder().headChunkLog(false).build())) {
            for (int k = 0; k < 250; k++) {
                s.write(new TimeSeries(l, List.of(new Sample(k * 1000L, k))));
                if (k == 199) {
                    s.checkpoint();
                }
            }
            // inside the second chunk (samples 120..239), sealed once sample 240 arrived
            s.write(new TimeSeries(l, List.of(new Sample(200_500L, -1))));
            s.flush(); // killed before its chunk writer ran: no log file flagged for out-of-order inserts
            first = copy(s.directory(), "crash1");
            live = TestUtil.renderStore(s);
        }
        StorageOptions noWindow = opts().shards(1).build();
        Path second;
        try (StorageImpl s = StorageImpl.open(first, noWindow)) {
            assertEquals(live, TestUtil.renderStore(s), "first restart: replay inserts the logged late sample");
            s.persistSealedChunks(); // the chunk writer ran before the kill
            second = crashImage(s, "crash2");
        }
        try (StorageImpl s = StorageImpl.open(second, noWindow)) {
            assertEquals(live, TestUtil.renderStore(s), "second restart: the late sample is still there");
        }
    }
}
