package io.tsdb.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.bench.write.PromtoolWorkload;
import io.tsdb.core.Labels;
import io.tsdb.core.SampleIterator;
import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchWriteTest {

    static Path seriesFile(Path dir, int n) throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            lines.add("{\"__name__\":\"metric_" + (i % 3) + "\",\"instance\":\"host-" + i + "\",\"job\":\"bench\"}");
            if (i == 2) {
                lines.add(lines.get(0)); // a duplicate: skipped like promtool does
            }
        }
        Path f = dir.resolve("series.json");
        Files.write(f, lines);
        return f;
    }

    /** Parses "name: value" lines; fails if a key appears twice. */
    static Map<String, String> parse(String out) {
        Map<String, String> m = new HashMap<>();
        for (String line : out.split("\n")) {
            int i = line.indexOf(": ");
            if (i > 0 && !line.startsWith("#")) {
                String prev = m.put(line.substring(0, i), line.substring(i + 2).trim());
                assertEquals(null, prev, "key printed twice: " + line);
            }
        }
        return m;
    }

    private static void checkRun(Path tmp, boolean inProcess) throws Exception {
        Path file = seriesFile(tmp, 20);
        Path out = tmp.resolve(inProcess ? "out-in" : "out-child");
        StringWriter so = new StringWriter();
        StringWriter se = new StringWriter();
        List<String> args = new ArrayList<>(
                List.of("bench", "write", "--metrics", "20", "--scrapes", "5", "--out", out.toString()));
        if (inProcess) {
            args.add("--in-process");
        }
        args.add(file.toString());
        int rc = Main.run(args.toArray(String[]::new), new PrintWriter(so), new PrintWriter(se));
        assertEquals(0, rc, so + "\n" + se);
        Map<String, String> m = parse(so.toString());
        // the three lines compare-promtool.sh parses, each a float
        assertTrue(Double.parseDouble(m.get("samples/sec")) > 0, so.toString());
        assertTrue(Double.parseDouble(m.get("replay_seconds")) >= 0);
        assertTrue(Double.parseDouble(m.get("crash_replay_seconds")) >= 0);
        assertEquals("20", m.get("series"));
        assertEquals("100", m.get("samples"));
        assertEquals("100", m.get("ingest_samples"));
        assertTrue(Double.parseDouble(m.get("wal_bytes_per_sample")) > 0);
        assertTrue(Double.parseDouble(m.get("head_bytes_per_sample")) > 0);
        assertTrue(Long.parseLong(m.get("disk_bytes")) > 0);
        // the same patterns the comparison script greps
        assertTrue(so.toString().lines().anyMatch(l -> l.matches("^[^_]*replay_seconds: *[0-9.eE+]+$")));
        assertTrue(so.toString().lines().anyMatch(l -> l.matches("crash_replay_seconds: *[0-9.eE+]+")));
        assertTrue(so.toString().lines().anyMatch(l -> l.matches("samples/sec: *[0-9.eE+]+")));
        assertTrue(Files.isDirectory(out.resolve("storage")));
        assertTrue(!Files.exists(out.resolve("crash-image")), "the crash image copy is removed");
    }

    @Test
    void tinyRunInProcessPrintsParsableLines(@TempDir Path tmp) throws Exception {
        checkRun(tmp, true);
    }

    @Test
    void tinyRunWithKilledChildPrintsParsableLines(@TempDir Path tmp) throws Exception {
        checkRun(tmp, false);
    }

    @Test
    void invalidLabelSetsNameTheirLine(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("bad.json");
        Files.write(f, List.of("{\"__name__\":\"ok\"}", "{\"__name__\":\"x\",\"\":\"empty name\"}"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> PromtoolWorkload.readLabelSets(f, 10));
        assertTrue(e.getMessage().contains("bad.json:2:"), e.getMessage());
        CliTest.Run r = CliTest.run(
                "bench",
                "write",
                "--metrics",
                "10",
                "--scrapes",
                "1",
                "--in-process",
                "--out",
                tmp.resolve("out").toString(),
                f.toString());
        assertEquals(1, r.rc());
        assertTrue(r.err().contains("bad.json:2:"), r.err());
    }

    @Test
    void workloadMatchesPromtoolTimestampsValuesAndRounds(@TempDir Path tmp) throws Exception {
        Path file = seriesFile(tmp, 3);
        List<Labels> series = PromtoolWorkload.readLabelSets(file, 3);
        assertEquals(3, series.size());
        try (StorageImpl store = StorageImpl.open(tmp.resolve("db"), StorageOptions.defaults())) {
            PromtoolWorkload.Result r = PromtoolWorkload.ingest(store, series, 150, 2, null);
            assertEquals(450, r.samples());
            assertEquals(150, r.commits()); // one commit per scrape per batch (one batch here)
            for (Labels l : series) {
                int ref = store.seriesRef(l);
                SampleIterator it = store.iterator(ref, Long.MIN_VALUE, Long.MAX_VALUE);
                for (int k = 0; k < 150; k++) {
                    assertTrue(it.next(), "sample " + k);
                    assertEquals(30_000L * (k + 1), it.timestamp());
                    // values restart each round of 100 scrapes, like promtool's per-round goroutines
                    assertEquals(123_456_789.0 + 1000.0 * (k % 100 + 1), it.value(), 0.0);
                }
                assertTrue(!it.next());
            }
        }
    }
}
