package io.tsdb.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.core.Labels;
import io.tsdb.core.Sample;
import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageOptions;
import io.tsdb.core.TimeSeries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End-to-end runs of the small commands on tiny inputs. */
class CommandsTest {

    private static Path smallStore(Path tmp) throws Exception {
        Path dir = tmp.resolve("db");
        try (StorageImpl store = StorageImpl.open(dir, StorageOptions.defaults())) {
            for (String job : new String[] {"a", "b"}) {
                List<Sample> samples = new ArrayList<>();
                for (int i = 0; i <= 20; i++) {
                    samples.add(new Sample(i * 15_000L, i * 10.0));
                }
                store.write(new TimeSeries(Labels.of("__name__", "requests_total", "job", job), samples));
            }
        }
        return dir;
    }

    @Test
    void queryInstantAndRange(@TempDir Path tmp) throws Exception {
        Path dir = smallStore(tmp);
        CliTest.Run r = CliTest.run("query", dir.toString(), "sum(requests_total)", "--at", "300");
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().contains("{} => 400 @300"), r.out());
        assertTrue(r.out().contains("# vector: 1 rows"), r.out());
        CliTest.Run range = CliTest.run(
                "query", dir.toString(), "requests_total{job=\"a\"}", "--start", "0", "--end", "60", "--step", "30s");
        assertEquals(0, range.rc(), range.err());
        assertTrue(range.out().contains("requests_total{job=\"a\"} =>"), range.out());
        assertTrue(range.out().contains("  20 @30") && range.out().contains("  40 @60"), range.out());
        CliTest.Run bad = CliTest.run("query", dir.toString(), "sum(", "--at", "300");
        assertEquals(1, bad.rc());
        assertTrue(bad.err().contains("error"), bad.err());
        CliTest.Run badStep =
                CliTest.run("query", dir.toString(), "up", "--start", "0", "--end", "60", "--step", "soon");
        assertEquals(2, badStep.rc());
        assertTrue(badStep.err().contains("not a positive duration"), badStep.err());
    }

    @Test
    void queryTakesTimesRelativeToNow(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("db");
        long now = System.currentTimeMillis();
        try (StorageImpl store = StorageImpl.open(dir, StorageOptions.defaults())) {
            // one sample a minute over the last 10 minutes, value = minutes ago
            List<Sample> samples = new ArrayList<>();
            for (int ago = 10; ago >= 0; ago--) {
                samples.add(new Sample(now - ago * 60_000L, ago));
            }
            store.write(new TimeSeries(Labels.of("__name__", "age_minutes", "job", "a"), samples));
        }
        // at now-3m30s the last sample is the one 4 minutes old
        CliTest.Run at = CliTest.run("query", dir.toString(), "age_minutes", "--at", "now-3m30s");
        assertEquals(0, at.rc(), at.err());
        assertTrue(at.out().contains("age_minutes{job=\"a\"} => 4 @"), at.out());
        CliTest.Run range = CliTest.run(
                "query", dir.toString(), "age_minutes", "--start", "now-5m", "--end", "now", "--step", "1m");
        assertEquals(0, range.rc(), range.err());
        assertTrue(range.out().contains("age_minutes{job=\"a\"} =>"), range.out());
        CliTest.Run bad = CliTest.run(
                "query", dir.toString(), "age_minutes", "--start", "now-5q", "--end", "now", "--step", "1m");
        assertEquals(2, bad.rc(), bad.out());
        assertTrue(bad.err().contains("--start: 'now-5q'"), bad.err());
    }

    @Test
    void statsPerShard(@TempDir Path tmp) throws Exception {
        Path dir = smallStore(tmp);
        CliTest.Run r = CliTest.run("stats", dir.toString());
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().contains("shard") && r.out().contains("checkpoint"), r.out());
        String[] total = r.out()
                .lines()
                .filter(l -> l.startsWith("total"))
                .findFirst()
                .orElseThrow()
                .trim()
                .split("\\s+");
        assertEquals("2", total[4], r.out()); // series
        assertEquals("42", total[5], r.out()); // samples
        assertTrue(r.out().contains("head: 2 series, 42 samples"), r.out());
        CliTest.Run prom = CliTest.run("stats", "--prometheus", dir.toString());
        assertEquals(0, prom.rc(), prom.err());
        assertTrue(prom.out().contains("tsdb_head_series 2"), prom.out());
        Path notStore = Files.createDirectories(tmp.resolve("empty"));
        CliTest.Run bad = CliTest.run("stats", notStore.toString());
        assertEquals(2, bad.rc());
        assertTrue(bad.err().contains("not a tsdb store"), bad.err());
    }

    @Test
    void promqltestCountsAndExitCode(@TempDir Path tmp) throws Exception {
        Path ok = tmp.resolve("ok.test");
        Files.writeString(ok, """
                load 5m
                  http_requests{job="a"} 0+10x10

                eval instant at 50m http_requests
                  http_requests{job="a"} 100

                eval instant at 50m sum(http_requests)
                  {} 100
                """);
        CliTest.Run r = CliTest.run("promqltest", ok.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        assertTrue(r.out().contains("promql evals: 2 passed, 0 failed, 0 skipped"), r.out());
        Path bad = tmp.resolve("bad.test");
        Files.writeString(bad, """
                load 5m
                  http_requests{job="a"} 0+10x10

                eval instant at 50m http_requests
                  http_requests{job="a"} 99
                """);
        CliTest.Run f = CliTest.run("promqltest", ok.toString(), bad.toString());
        assertEquals(1, f.rc(), f.out());
        assertTrue(f.out().contains("promql evals: 2 passed, 1 failed, 0 skipped"), f.out());
        CliTest.Run missing = CliTest.run("promqltest", tmp.resolve("nope.test").toString());
        assertEquals(2, missing.rc());
        assertTrue(missing.err().contains("does not exist"), missing.err());
    }

    @Test
    void promqltestNamesTheFileAndLineOfAParseError(@TempDir Path tmp) throws Exception {
        Path bad = tmp.resolve("broken.test");
        Files.writeString(bad, """
                load 5m
                  http_requests{job="a"} 0+10x10

                eval instant at 50m http_requests
                  http_requests{job="a"} 100
                  expect nothing_like_this
                """);
        CliTest.Run r = CliTest.run("promqltest", bad.toString());
        assertEquals(1, r.rc(), r.out() + r.err());
        assertTrue(r.out().contains("FAIL broken.test:6: "), r.out());
        assertTrue(r.out().contains("cannot parse " + bad + ": line 6: "), r.out());
    }

    @Test
    void tinyDemoPrintsItsReport(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("demo");
        CliTest.Run r =
                CliTest.run("demo", "--dir", dir.toString(), "--instances", "2", "--hours", "0.25", "--writers", "2");
        assertEquals(0, r.rc(), r.out() + r.err());
        for (String s : new String[] {
            "samples written",
            "commit latency",
            "WAL lock wait",
            "restart after a crash",
            "open (WAL replay)",
            "head chunk log",
            "restart after a clean close",
            "open (checkpoint)",
            "RSS",
            "sum by (status)",
            "histogram_quantile",
            "{status=\"200\"} =>"
        }) {
            assertTrue(r.out().contains(s), "missing '" + s + "' in:\n" + r.out());
        }
        assertTrue(!r.out().contains("WARNING"), r.out());
        assertTrue(Files.size(dir.resolve("ingest-throughput.png")) > 0);
        assertTrue(
                !Files.exists(dir.resolveSibling("demo-crash-image")), "the crash image is removed after its restart");
    }

    @Test
    void tinyWalScalingWritesLinesCsvAndChart(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("ws");
        CliTest.Run r = CliTest.run(
                "bench",
                "wal-scaling",
                "--out",
                out.toString(),
                "--shards",
                "baseline,2",
                "--threads",
                "2",
                "--modes",
                "page-cache,fsync",
                "--sizes",
                "64",
                "--seconds",
                "0.2",
                "--warmup",
                "0");
        assertEquals(0, r.rc(), r.out() + r.err());
        long lines = r.out()
                .lines()
                .filter(l -> l.matches(
                        "wal-scaling shards=(baseline|2) threads=2 mode=(page-cache|fsync) appends_per_sec=[0-9]+ "
                                + "lock_wait_ns_per_append=[0-9.]+ p99_us=[0-9.]+"))
                .count();
        assertEquals(4, lines, r.out());
        assertEquals(5, Files.readAllLines(out.resolve("wal-scaling.csv")).size());
        assertTrue(Files.size(out.resolve("wal-scaling.png")) > 0);
        assertTrue(!Files.exists(out.resolve("data")), "the data directory is removed");
    }

    @Test
    void benchQueryOnTinyData(@TempDir Path tmp) throws Exception {
        Path om = tmp.resolve("data.om");
        CliTest.Run r = CliTest.run(
                "bench",
                "query",
                "--series",
                "40",
                "--hours",
                "1",
                "--iterations",
                "2",
                "--warmup",
                "1",
                "--dir",
                tmp.resolve("qb").toString(),
                "--openmetrics",
                om.toString());
        assertEquals(0, r.rc(), r.err());
        assertTrue(r.out().contains("query-bench-data series=40 scrapes=240 samples=9600"), r.out());
        long timed = r.out()
                .lines()
                .filter(l -> l.startsWith("query-bench engine=tsdb "))
                .count();
        assertEquals(6, timed, r.out()); // 3 queries x (instant, range)
        // instances are i-0 .. i-39: i-1, i-10..i-19, i-2, i-20..i-29 match the regex
        assertTrue(
                r.out()
                        .contains(
                                "query-check engine=tsdb kind=instant query=\"count(m{instance=~\\\"i-1.*|i-2.*\\\"})\" series=1 points=1 sum=22.0"),
                r.out());
        List<String> lines = Files.readAllLines(om);
        assertEquals("# EOF", lines.get(lines.size() - 1));
        assertEquals(9600, lines.stream().filter(l -> l.startsWith("m{")).count());
    }
}
