package io.tsdb.core.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.core.Labels;
import io.tsdb.core.Sample;
import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageOptions;
import io.tsdb.core.StoreLockedException;
import io.tsdb.core.TimeSeries;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8, points 1, 3 and 13: one writer per store directory (in this JVM and across processes,
 * with no stale lock after kill -9), and no store written into a directory that is not one.
 */
class StoreLockTest {
    @TempDir
    Path tmp;

    private static StorageOptions opts() {
        return StorageOptions.builder()
                .shards(2)
                .checkpointInterval(java.time.Duration.ZERO)
                .checkpointWalBytes(0)
                .build();
    }

    @Test
    void aSecondWriterInTheSameJvmIsRefusedUntilTheFirstCloses() throws Exception {
        Path dir = tmp.resolve("store");
        try (StorageImpl s = StorageImpl.open(dir, opts())) {
            s.write(new TimeSeries(Labels.of("__name__", "up"), List.of(new Sample(1000, 1))));
            StoreLockedException e = assertThrows(StoreLockedException.class, () -> StorageImpl.open(dir, opts()));
            assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid()), e.getMessage());
            assertEquals(dir, e.directory());
            // the refused open changed nothing: the first store still works
            s.write(new TimeSeries(Labels.of("__name__", "up"), List.of(new Sample(2000, 1))));
        }
        try (StorageImpl s = StorageImpl.open(dir, opts())) {
            assertEquals(2, s.stats().samples());
        }
    }

    /** Child JVM: opens the store in args[0] for writing, prints "OPEN", then holds it until killed. */
    public static final class Holder {
        public static void main(String[] args) throws Exception {
            StorageImpl s = StorageImpl.open(Path.of(args[0]), opts());
            s.write(new TimeSeries(Labels.of("__name__", "held"), List.of(new Sample(1000, 1))));
            System.out.println("OPEN");
            System.out.flush();
            Thread.sleep(120_000); // killed by the test long before
            s.close();
        }
    }

    @Test
    @Timeout(120)
    void aWriterInAnotherProcessIsNamedAndItsLockDiesWithIt() throws Exception {
        Path dir = tmp.resolve("store");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(
                        java.toString(),
                        "-Xmx128m",
                        "-cp",
                        ChildClasspath.get(),
                        Holder.class.getName(),
                        dir.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try {
            BufferedReader out =
                    new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("OPEN", out.readLine(), "the child opened the store");
            StoreLockedException e = assertThrows(StoreLockedException.class, () -> StorageImpl.open(dir, opts()));
            assertEquals(child.pid(), e.holderPid(), e.getMessage());
            assertTrue(
                    e.getMessage().contains("pid " + child.pid())
                            && e.getMessage().contains(dir.toString()),
                    e.getMessage());
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        }
        // kill -9 left the lock file, but not the lock
        assertTrue(Files.exists(dir.resolve("lock")));
        try (StorageImpl s = StorageImpl.open(dir, opts())) {
            s.write(new TimeSeries(Labels.of("__name__", "after"), List.of(new Sample(1000, 1))));
        }
    }

    private static TreeMap<String, String> snapshot(Path root) throws IOException {
        TreeMap<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                m.put(
                        root.relativize(p).toString(),
                        Files.isDirectory(p) ? "dir" : java.util.HexFormat.of().formatHex(Files.readAllBytes(p)));
            }
        }
        return m;
    }

    @Test
    void aNonEmptyDirectoryThatIsNotAStoreIsRefusedAndLeftUntouched() throws Exception {
        Path project = tmp.resolve("project");
        Files.createDirectories(project.resolve("src/main/java"));
        Files.writeString(project.resolve("pom.xml"), "<project/>\n");
        Files.writeString(project.resolve("src/main/java/App.java"), "class App {}\n");
        TreeMap<String, String> before = snapshot(project);
        IOException e = assertThrows(IOException.class, () -> StorageImpl.open(project, opts()));
        assertTrue(
                e.getMessage().contains("not empty and holds no tsdb store")
                        && e.getMessage().contains(project.toString())
                        && e.getMessage().contains("pom.xml"),
                e.getMessage());
        assertEquals(before, snapshot(project), "nothing written, nothing deleted");
        // an empty directory becomes a store, and then reopens as one
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        try (StorageImpl s = StorageImpl.open(empty, opts())) {
            s.write(new TimeSeries(Labels.of("__name__", "up"), List.of(new Sample(1000, 1))));
        }
        try (StorageImpl s = StorageImpl.open(empty, opts())) {
            assertEquals(1, s.stats().samples());
        }
    }

    @Test
    void aRegularFileIsNotADirectory() throws Exception {
        Path file = Files.writeString(tmp.resolve("notes.txt"), "hello\n");
        NotDirectoryException e = assertThrows(NotDirectoryException.class, () -> StorageImpl.open(file, opts()));
        assertTrue(e.getMessage().contains("is not a directory"), e.getMessage());
        assertEquals("hello\n", Files.readString(file));
    }

    @Test
    void aDirectoryThatCannotBeWrittenIsNamedAsSuch() throws Exception {
        Path dir = tmp.resolve("store");
        try (StorageImpl s = StorageImpl.open(dir, opts())) {
            s.write(new TimeSeries(Labels.of("__name__", "up"), List.of(new Sample(1000, 1))));
        }
        List<Path> all = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            s.forEach(all::add);
        }
        assertTrue(dir.toFile().setWritable(false, false));
        try {
            if (Files.isWritable(dir)) {
                // root ignores permission bits: the OS would let the open write, and so it does
                try (StorageImpl s = StorageImpl.open(dir, opts())) {
                    assertEquals(1, s.stats().samples());
                }
            } else {
                java.nio.file.AccessDeniedException e =
                        assertThrows(java.nio.file.AccessDeniedException.class, () -> StorageImpl.open(dir, opts()));
                assertTrue(
                        e.getMessage().contains("not writable")
                                && e.getMessage().contains(dir.toString()),
                        e.getMessage());
                assertFalse(e.getMessage().contains(".tmp"), e.getMessage());
            }
        } finally {
            assertTrue(dir.toFile().setWritable(true, false));
        }
    }
}
