package io.tsdb.core.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tsdb.core.Appender;
import io.tsdb.core.Labels;
import io.tsdb.core.Sample;
import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageOptions;
import io.tsdb.core.StorageStats;
import io.tsdb.core.TimeSeries;
import io.tsdb.wal.Durability;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RELIABILITY.md 2.14, shard isolation: one shard's files of a cleanly closed 8-shard store are
 * destroyed (garbage over its WAL segments, its anchor deleted or garbled, its directory made
 * unreadable, its checkpoint garbled). Pass: {@code open()} succeeds; every other shard's series
 * are fully present, bit-exactly; the damaged shard returns nothing that was not written; the damage
 * is reported (WAL recovery report / checkpoint problems in {@code stats()}) naming that shard and
 * only that shard; the healthy shards accept writes that survive a reopen.
 *
 * <p>Layout (docs/wal-format.md, docs/architecture.md): {@code <store>/wal/shard-NNN/} holds the
 * shard's {@code <base>.log} segments, {@code .idx} indexes and {@code anchor};
 * {@code <store>/checkpoints/shard-NNNN/ckpt-<offset>} its checkpoints.
 */
class ShardIsolationTest {
    static final int SHARDS = 8;
    static final int SERIES = 160;
    static final int ROUNDS = 60;
    private static final Pattern SHARD_IN_REPORT = Pattern.compile("shard=(\\d+)");

    @TempDir
    Path tmp;

    private static StorageOptions walOnly() {
        return StorageOptions.builder()
                .shards(SHARDS)
                .durability(Durability.PAGE_CACHE)
                .checkpointInterval(Duration.ZERO)
                .checkpointWalBytes(0)
                .checkpointOnClose(false)
                .replayParallelism(2)
                .build();
    }

    /** The written content, per shard. */
    private final Map<Integer, TreeMap<Labels, List<long[]>>> expected = new TreeMap<>();

    private List<Labels> labels;

    private void populate(Path dir, StorageOptions opts) throws IOException {
        labels = SeriesGen.labelSets(SERIES, 23);
        for (int s = 0; s < SHARDS; s++) {
            expected.put(s, new TreeMap<>());
        }
        try (StorageImpl store = StorageImpl.open(dir, opts)) {
            Appender app = store.appender();
            long[] refs = new long[SERIES];
            for (int r = 0; r < ROUNDS; r++) {
                long t = SeriesGen.timestamp(r);
                for (int i = 0; i < SERIES; i++) {
                    long bits = SeriesGen.valueBits(i, t);
                    refs[i] = app.append(refs[i], labels.get(i), t, Double.longBitsToDouble(bits));
                    expected.get(SeriesGen.shardOf(labels.get(i), SHARDS))
                            .computeIfAbsent(labels.get(i), k -> new ArrayList<>())
                            .add(new long[] {t, bits});
                }
                app.commit();
            }
        }
    }

    /** The shard holding the most series (so its loss is visible). */
    private int victim() {
        int best = 0;
        for (int s = 1; s < SHARDS; s++) {
            if (expected.get(s).size() > expected.get(best).size()) {
                best = s;
            }
        }
        assertTrue(expected.get(best).size() > 0, "no series at all");
        return best;
    }

    private static Path walShardDir(Path store, int shard) {
        Path d = store.resolve("wal").resolve(String.format("shard-%03d", shard));
        if (!Files.isDirectory(d)) {
            fail("expected the WAL shard directory " + d + " (docs/wal-format.md); store holds: " + tree(store));
        }
        return d;
    }

    private static List<Path> segments(Path shardDir) throws IOException {
        try (Stream<Path> s = Files.list(shardDir)) {
            List<Path> l = s.filter(p -> p.getFileName().toString().endsWith(".log"))
                    .sorted()
                    .toList();
            assertFalse(l.isEmpty(), "no .log segment in " + shardDir);
            return l;
        }
    }

    private static void garble(Path file, long seed) throws IOException {
        long size = Files.size(file);
        byte[] junk = new byte[(int) Math.max(size, 64)];
        new Random(seed).nextBytes(junk);
        Files.write(file, junk);
    }

    /**
     * Opens the damaged store and checks the contract. Returns the open store's stats for
     * case-specific checks of the report; {@code victimIntact}: the damage must not lose anything
     * (the log itself is whole, e.g. only the anchor was damaged).
     */
    private StorageStats openAndCheck(Path dir, StorageOptions opts, int victim, boolean victimIntact)
            throws IOException {
        StorageStats stats;
        Labels healthy = null;
        try (StorageImpl store = StorageImpl.open(dir, opts)) {
            Map<Labels, List<long[]>> got = StoreContent.dump(store);
            for (int s = 0; s < SHARDS; s++) {
                TreeMap<Labels, List<long[]>> want = expected.get(s);
                TreeMap<Labels, List<long[]>> have = new TreeMap<>();
                for (Map.Entry<Labels, List<long[]>> e : got.entrySet()) {
                    if (SeriesGen.shardOf(e.getKey(), SHARDS) == s) {
                        have.put(e.getKey(), e.getValue());
                    }
                }
                if (s != victim || victimIntact) {
                    assertNull(
                            StoreContent.firstDifference(want, have),
                            "shard " + s + " (damaged shard: " + victim + ") not fully recovered");
                    if (s != victim && !want.isEmpty()) {
                        healthy = want.firstKey();
                    }
                } else {
                    // the damaged shard: whatever it returns must have been written (no phantom)
                    for (Map.Entry<Labels, List<long[]>> e : have.entrySet()) {
                        List<long[]> w = want.get(e.getKey());
                        assertTrue(
                                w != null || e.getValue().isEmpty(),
                                "phantom series in damaged shard " + victim + ": " + e.getKey());
                        for (long[] smp : e.getValue()) {
                            boolean ok = w.stream().anyMatch(x -> x[0] == smp[0] && x[1] == smp[1]);
                            assertTrue(
                                    ok,
                                    "phantom sample t=" + smp[0] + " bits=" + Long.toHexString(smp[1])
                                            + " in damaged shard " + victim + " series " + e.getKey());
                        }
                    }
                }
            }
            stats = store.stats();
            // the healthy shards keep accepting writes
            assertTrue(healthy != null, "no healthy shard with series");
            store.write(new TimeSeries(healthy, List.of(new Sample(SeriesGen.timestamp(ROUNDS), 42.0))));
        }
        try (StorageImpl store = StorageImpl.open(dir, opts)) {
            int ref = store.seriesRef(healthy);
            assertTrue(ref >= 0, "series of a healthy shard missing after a write and reopen: " + healthy);
            var it = store.iterator(ref, SeriesGen.timestamp(ROUNDS), SeriesGen.timestamp(ROUNDS));
            assertTrue(
                    it.next() && it.value() == 42.0,
                    "write to a healthy shard after the damage did not survive reopen");
        }
        return stats;
    }

    /** Every "shard=N" in the WAL recovery report names the victim; at least one does. */
    private static void assertReportNamesOnly(StorageStats stats, int victim, String kind) {
        String report = stats.replay().walRecovery();
        assertFalse(stats.replay().walRecoveryClean(), "damage to shard " + victim + " not reported: " + report);
        assertTrue(report.contains(kind), "expected a " + kind + " finding for shard " + victim + ": " + report);
        Matcher m = SHARD_IN_REPORT.matcher(report);
        TreeSet<Integer> named = new TreeSet<>();
        while (m.find()) {
            named.add(Integer.parseInt(m.group(1)));
        }
        assertEquals(
                new TreeSet<>(List.of(victim)), named, "the report must name exactly the damaged shard: " + report);
    }

    @Test
    void garbageOverOneShardsSegmentsLeavesTheOtherShardsWhole() throws IOException {
        Path dir = tmp.resolve("garbage");
        populate(dir, walOnly());
        int victim = victim();
        for (Path seg : segments(walShardDir(dir, victim))) {
            garble(seg, 99);
        }
        StorageStats stats = openAndCheck(dir, walOnly(), victim, false);
        assertReportNamesOnly(stats, victim, "shard=" + victim);
        Figures.report("shardIsolation case=garbageSegments victim=" + victim + " victimSeries="
                + expected.get(victim).size() + " otherShardsIntact=true report=" + oneLine(stats));
    }

    @Test
    void deletedAnchorIsRebuiltAndNothingIsLost() throws IOException {
        Path dir = tmp.resolve("noanchor");
        populate(dir, walOnly());
        int victim = victim();
        Path anchor = walShardDir(dir, victim).resolve("anchor");
        assertTrue(Files.exists(anchor), "no anchor in " + anchor.getParent() + ": " + tree(anchor.getParent()));
        Files.delete(anchor);
        StorageStats stats = openAndCheck(dir, walOnly(), victim, true);
        assertReportNamesOnly(stats, victim, "ANCHOR_REBUILT");
        Figures.report("shardIsolation case=deletedAnchor victim=" + victim + " allShardsIntact=true report="
                + oneLine(stats));
    }

    @Test
    void garbageAnchorIsRebuiltAndNothingIsLost() throws IOException {
        Path dir = tmp.resolve("badanchor");
        populate(dir, walOnly());
        int victim = victim();
        Path anchor = walShardDir(dir, victim).resolve("anchor");
        assertTrue(Files.exists(anchor), "no anchor in " + anchor.getParent());
        garble(anchor, 5);
        StorageStats stats = openAndCheck(dir, walOnly(), victim, true);
        assertReportNamesOnly(stats, victim, "ANCHOR_REBUILT");
        Figures.report("shardIsolation case=garbageAnchor victim=" + victim + " allShardsIntact=true report="
                + oneLine(stats));
    }

    @Test
    void unreadableShardIsReportedAndRefusesWritesWhileTheOthersWork() throws IOException {
        Path dir = tmp.resolve("unreadable");
        populate(dir, walOnly());
        int victim = victim();
        Path shardDir = walShardDir(dir, victim);
        StoreContent.deleteRecursively(shardDir);
        Files.write(shardDir, new byte[] {1, 2, 3}); // a file where the shard's directory was
        StorageStats stats = openAndCheck(dir, walOnly(), victim, false);
        assertReportNamesOnly(stats, victim, "SHARD_UNREADABLE");
        // a write to the unreadable shard must fail clearly, never be acknowledged
        try (StorageImpl store = StorageImpl.open(dir, walOnly())) {
            Labels l = expected.get(victim).firstKey();
            try {
                store.write(new TimeSeries(l, List.of(new Sample(SeriesGen.timestamp(ROUNDS + 1), 1.0))));
                fail("a write to unreadable shard " + victim + " was acknowledged");
            } catch (IOException expectedFailure) {
                // refused, as the contract says (a ShardFailedException is an IOException)
            }
        }
        Figures.report("shardIsolation case=unreadableShardDir victim=" + victim + " otherShardsIntact=true"
                + " victimWritesRefused=true report=" + oneLine(stats));
    }

    @Test
    void garbageCheckpointOfOneShardFallsBackAndIsReported() throws IOException {
        Path dir = tmp.resolve("badckpt");
        StorageOptions withCheckpoint =
                walOnly().toBuilder().checkpointOnClose(true).build();
        populate(dir, withCheckpoint);
        int victim = victim();
        Path ckDir = dir.resolve("checkpoints").resolve(String.format("shard-%04d", victim));
        List<Path> files;
        try (Stream<Path> s = Files.exists(ckDir) ? Files.list(ckDir) : Stream.empty()) {
            files = s.filter(p -> p.getFileName().toString().startsWith("ckpt-"))
                    .toList();
        }
        assertFalse(files.isEmpty(), "no checkpoint of shard " + victim + " after close: " + tree(dir));
        for (Path f : files) {
            garble(f, 17);
        }
        // the WAL still holds every record (a single checkpoint does not truncate it): all shards whole
        StorageStats stats = openAndCheck(dir, withCheckpoint, victim, true);
        List<String> problems = stats.checkpoint().problems();
        assertFalse(problems.isEmpty(), "damaged checkpoint of shard " + victim + " not reported");
        for (String p : problems) {
            assertTrue(p.startsWith("shard " + victim + ":"), "checkpoint problem names another shard: " + problems);
        }
        Figures.report("shardIsolation case=garbageCheckpoint victim=" + victim + " allShardsIntact=true problems="
                + problems.size());
    }

    private static String oneLine(StorageStats stats) {
        return stats.replay().walRecovery().replace('\n', ' ').replaceAll(" +", " ");
    }

    private static String tree(Path root) {
        if (!Files.exists(root)) {
            return "(missing)";
        }
        try (Stream<Path> s = Files.walk(root)) {
            return s.map(p -> root.relativize(p).toString()).toList().toString();
        } catch (IOException e) {
            return e.toString();
        }
    }
}
