package io.tsdb.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tsdb demo --dir} and {@code tsdb bench write --out} delete only what they created: a directory they did not
 * make (no marker file) is refused and left as it was; in one they made, a rerun keeps everything that is not theirs.
 */
class OwnedDirectoriesTest {

    /** Every file and directory under {@code root}, relative, with the bytes of the files. */
    private static Map<String, String> tree(Path root) throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String rel = root.relativize(p).toString();
                m.put(
                        rel,
                        Files.isDirectory(p)
                                ? "<dir>"
                                : new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1));
            }
        }
        return m;
    }

    /** A checkout-like directory: pom.xml, src/ with files, and a STORE file as a tsdb store has. */
    private static Path project(Path parent, boolean withStoreFiles) throws Exception {
        Path dir = Files.createDirectories(parent.resolve("project"));
        Files.writeString(dir.resolve("pom.xml"), "<project/>\n");
        Path src = Files.createDirectories(dir.resolve("src/main/java"));
        Files.writeString(src.resolve("App.java"), "class App {}\n");
        if (withStoreFiles) {
            Files.writeString(dir.resolve("STORE"), "not really a store\n");
            Files.createDirectories(dir.resolve("storage"));
            Files.writeString(dir.resolve("storage/notes.txt"), "mine\n");
        }
        return dir;
    }

    private static void assertRefused(CliTest.Run r, Path dir, String marker) {
        assertEquals(2, r.rc(), r.out() + r.err());
        assertTrue(r.err().contains(dir.toString()), "names the directory: " + r.err());
        assertTrue(r.err().contains("not empty") && r.err().contains(marker), "says why: " + r.err());
    }

    @Test
    void demoRefusesADirectoryItDidNotCreateAndLeavesItByteIdentical(@TempDir Path tmp) throws Exception {
        for (boolean storeFiles : new boolean[] {false, true}) {
            Path dir = project(tmp.resolve("demo-" + storeFiles), storeFiles);
            Map<String, String> before = tree(dir);
            assertRefused(
                    CliTest.run("demo", "--dir", dir.toString(), "--instances", "1", "--hours", "0.05"),
                    dir,
                    ".tsdb-demo");
            assertEquals(before, tree(dir));
        }
    }

    @Test
    void benchWriteRefusesADirectoryItDidNotCreateAndLeavesItByteIdentical(@TempDir Path tmp) throws Exception {
        Path series = BenchWriteTest.seriesFile(tmp, 5);
        for (boolean storeFiles : new boolean[] {false, true}) {
            Path dir = project(tmp.resolve("bench-" + storeFiles), storeFiles);
            Map<String, String> before = tree(dir);
            assertRefused(
                    CliTest.run(
                            "bench",
                            "write",
                            "--metrics",
                            "5",
                            "--scrapes",
                            "2",
                            "--in-process",
                            "--out",
                            dir.toString(),
                            series.toString()),
                    dir,
                    ".tsdb-bench");
            assertEquals(before, tree(dir));
        }
    }

    @Test
    void aDemoRerunKeepsWhatIsNotItsOwn(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("demo");
        String[] args = {"demo", "--dir", dir.toString(), "--instances", "1", "--hours", "0.05", "--writers", "1"};
        CliTest.Run first = CliTest.run(args);
        assertEquals(0, first.rc(), first.out() + first.err());
        assertTrue(Files.isRegularFile(dir.resolve(".tsdb-demo")), "the demo marks the directory it made");
        Files.writeString(dir.resolve("notes.txt"), "keep me\n");
        Files.createDirectories(dir.resolve("mine"));
        Files.writeString(dir.resolve("mine/data.csv"), "1,2\n");
        // a sibling named like the old crash image location is not the demo's either
        Path sibling = Files.createDirectories(tmp.resolve("demo-crash-image"));
        Files.writeString(sibling.resolve("x"), "y");
        CliTest.Run second = CliTest.run(args);
        assertEquals(0, second.rc(), second.out() + second.err());
        assertTrue(second.out().contains("samples written"), second.out());
        assertTrue(!second.out().contains("WARNING"), "a fresh store each run:\n" + second.out());
        assertEquals("keep me\n", Files.readString(dir.resolve("notes.txt")));
        assertEquals("1,2\n", Files.readString(dir.resolve("mine/data.csv")));
        assertEquals("y", Files.readString(sibling.resolve("x")));
        assertTrue(!Files.exists(dir.resolve("crash-image")), "the crash image is removed after its restart");
        assertTrue(Files.size(dir.resolve("ingest-throughput.png")) > 0);
        assertTrue(Files.isRegularFile(dir.resolve("store/STORE")), "the store lives in DIR/store");
    }

    @Test
    void aBenchWriteRerunKeepsWhatIsNotItsOwn(@TempDir Path tmp) throws Exception {
        Path series = BenchWriteTest.seriesFile(tmp, 5);
        Path out = tmp.resolve("out");
        List<String> args = new ArrayList<>(List.of(
                "bench",
                "write",
                "--metrics",
                "5",
                "--scrapes",
                "3",
                "--in-process",
                "--out",
                out.toString(),
                series.toString()));
        CliTest.Run first = CliTest.run(args.toArray(String[]::new));
        assertEquals(0, first.rc(), first.out() + first.err());
        assertTrue(Files.isRegularFile(out.resolve(".tsdb-bench")));
        Files.writeString(out.resolve("results.txt"), "run 1\n");
        Files.writeString(out.resolve("storage/README"), "a note inside the store\n");
        // a file of the user's inside the store directory: its store files go, the note stays, and the
        // store refuses to be recreated in a directory that is not empty and not a store
        CliTest.Run refused = CliTest.run(args.toArray(String[]::new));
        assertEquals(1, refused.rc(), refused.out() + refused.err());
        assertTrue(
                refused.err().contains("holds no tsdb store") && refused.err().contains("README"), refused.err());
        assertEquals("a note inside the store\n", Files.readString(out.resolve("storage/README")));
        Files.move(out.resolve("storage/README"), out.resolve("README"));
        CliTest.Run second = CliTest.run(args.toArray(String[]::new));
        assertEquals(0, second.rc(), second.out() + second.err());
        // a fresh store: the second run finds its own 15 samples, not 30
        assertEquals("15", BenchWriteTest.parse(second.out()).get("samples"), second.out());
        assertEquals("run 1\n", Files.readString(out.resolve("results.txt")));
        assertEquals("a note inside the store\n", Files.readString(out.resolve("README")));
    }
}
