package io.tsdb.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class CliTest {

    record Run(int rc, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(rc, out.toString(), err.toString());
    }

    @Test
    void helpAndVersion() {
        Run h = run("--help");
        assertEquals(0, h.rc());
        for (String cmd : new String[] {"demo", "bench", "stats", "query", "promqltest"}) {
            assertTrue(h.out().contains(cmd), h.out());
        }
        Run v = run("--version");
        assertEquals(0, v.rc());
        assertTrue(v.out().startsWith("tsdb "), v.out());
        assertEquals(0, run("bench", "write", "--help").rc());
        assertEquals(0, run("bench", "wal-scaling", "--help").rc());
    }

    private static void assertUsageError(String expectedInMessage, String... args) {
        Run r = run(args);
        assertEquals(2, r.rc(), String.join(" ", args) + " -> " + r.err());
        assertTrue(r.err().contains(expectedInMessage), "expected '" + expectedInMessage + "' in: " + r.err());
    }

    @Test
    void refusesToWipeDirectoriesThatAreNotItsOwn(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Path precious = java.nio.file.Files.createDirectories(tmp.resolve("precious"));
        java.nio.file.Files.writeString(precious.resolve("notes.txt"), "keep me");
        java.nio.file.Path series = java.nio.file.Files.writeString(tmp.resolve("s.json"), "{\"__name__\":\"up\"}\n");
        assertUsageError(
                "refusing to wipe --out",
                "bench",
                "write",
                "--metrics",
                "1",
                "--scrapes",
                "1",
                "--out",
                precious.toString(),
                series.toString());
        assertUsageError("refusing to wipe --dir", "demo", "--dir", precious.toString());
        assertTrue(java.nio.file.Files.exists(precious.resolve("notes.txt")));
    }

    @Test
    void badArgumentsGetAClearUsageError() {
        assertUsageError("Missing required subcommand");
        assertUsageError("Unmatched argument", "frobnicate");
        assertUsageError("Missing required subcommand", "bench");
        assertUsageError("--seconds must be > 0", "bench", "wal-scaling", "--seconds", "0");
        assertUsageError("neither 'baseline' nor a shard count", "bench", "wal-scaling", "--shards", "baseline,x");
        assertUsageError("unknown mode", "bench", "wal-scaling", "--modes", "sometimes");
        assertUsageError("thread count must be", "bench", "wal-scaling", "--threads", "0");
        assertUsageError("Invalid value", "bench", "wal-scaling", "--threads", "many");
        assertUsageError("Missing required parameter", "bench", "write", "--metrics", "10");
        assertUsageError("--metrics must be >= 1", "bench", "write", "--metrics", "0", "--out", "x", "f.json");
        assertUsageError("--scrapes must be >= 1", "bench", "write", "--scrapes", "-3", "--out", "x", "f.json");
        assertUsageError(
                "does not exist", "bench", "write", "--metrics", "5", "--out", "x", "/nonexistent/series.json");
        assertUsageError("Missing required parameter", "query");
        assertUsageError(
                "either --at or all of --start, --end and --step", "query", "d", "up", "--at", "0", "--start", "0");
        assertUsageError("Missing required parameter", "promqltest");
        assertUsageError("Missing required parameter", "stats");
        assertUsageError("does not exist", "stats", "/nonexistent/tsdb-dir");
        assertUsageError("--instances must be", "demo", "--instances", "0");
        assertUsageError("--hours must be > 0", "demo", "--hours", "-1");
        assertUsageError("is neither RFC 3339", "query", "/nonexistent", "up", "--at", "yesterday");
    }
}
