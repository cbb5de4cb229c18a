package io.tsdb.wal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * lz4-java extracts {@code liblz4-java-*.so} into {@code java.io.tmpdir} on each JVM start and
 * deletes it only on a clean exit. These tests kill child JVMs that compressed a block with
 * {@code destroyForcibly()} and look at what they left in their temp directory.
 */
class Lz4NativeLibraryTest {
    @TempDir
    Path tmp;

    /** Class path of the child: where this JVM loaded the WAL, this test, lz4-java and HdrHistogram from. */
    private static String childClasspath() throws Exception {
        Set<String> cp = new LinkedHashSet<>();
        for (Class<?> c : List.of(
                BlockCodec.class,
                Lz4ChildMain.class,
                net.jpountz.lz4.LZ4Factory.class,
                org.HdrHistogram.Histogram.class)) {
            cp.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .toString());
        }
        return String.join(File.pathSeparator, cp);
    }

    /** Starts a child with {@code -Djava.io.tmpdir=tmpdir}, waits for READY, kills it; returns what it printed after READY. */
    private static String runAndKill(Path tmpdir, String... props) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx64m");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-Djava.io.tmpdir=" + tmpdir);
        for (String p : props) cmd.add(p);
        cmd.add("-cp");
        cmd.add(childClasspath());
        cmd.add(Lz4ChildMain.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        String impl = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String line;
            while (System.nanoTime() < deadline && (line = r.readLine()) != null) {
                out.append(line).append('\n');
                if (line.startsWith("READY ")) {
                    impl = line.substring(6);
                    break;
                }
            }
            assertNotNull(impl, "child did not get ready; it printed:\n" + out);
            p.destroyForcibly(); // SIGKILL: no shutdown hooks, no deleteOnExit
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "killed child did not exit");
        } finally {
            p.destroyForcibly();
        }
        assertNotEquals(0, p.exitValue(), "the child must have been killed, not have exited");
        return impl;
    }

    private static List<String> filesUnder(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile)
                    .map(x -> dir.relativize(x).toString())
                    .sorted()
                    .toList();
        }
    }

    @Test
    void aChildKilledAfterCompressingLeavesNoLz4JavaTempLibraryAndReusesOneCopy() throws Exception {
        Path tmpdir = Files.createDirectories(tmp.resolve("child-tmp"));
        String impl = null;
        for (int i = 0; i < 3; i++) {
            impl = runAndKill(tmpdir);
            List<String> files = filesUnder(tmpdir);
            for (String f : files) {
                String name = Path.of(f).getFileName().toString();
                assertFalse(
                        name.startsWith("liblz4"),
                        "kill " + (i + 1) + " left lz4-java's temp library " + f + "; all: " + files);
            }
        }
        boolean nativeExpected = Lz4Loader.resourceName() != null
                && net.jpountz.util.Native.class.getResource(Lz4Loader.resourceName()) != null;
        List<String> files = filesUnder(tmpdir);
        if (nativeExpected) {
            // the speed is kept: the JNI instance, from the one reused copy
            assertTrue(impl.startsWith("LZ4Factory:JNI"), "child used " + impl);
            assertEquals(1, files.size(), "one reused copy after 3 kills: " + files);
            assertTrue(files.get(0).startsWith(Lz4Loader.DIR_PREFIX), files.toString());
        } else {
            assertTrue(impl.startsWith("LZ4Factory:Java"), "child used " + impl);
            assertEquals(List.of(), files);
        }
    }

    @Test
    void thePureJavaSettingExtractsNothingAtAll() throws Exception {
        Path tmpdir = Files.createDirectories(tmp.resolve("child-tmp-java"));
        String impl = runAndKill(tmpdir, "-D" + Lz4Loader.PROPERTY + "=java");
        assertTrue(impl.startsWith("LZ4Factory:Java"), "child used " + impl);
        assertEquals(List.of(), filesUnder(tmpdir));
    }

    @Test
    void aDamagedReusedCopyIsReplacedNotLoaded() throws Exception {
        Path tmpdir = Files.createDirectories(tmp.resolve("child-tmp-damaged"));
        runAndKill(tmpdir);
        List<String> files = filesUnder(tmpdir);
        if (files.isEmpty()) return; // no native library on this platform: the first test covers it
        Path lib = tmpdir.resolve(files.get(0));
        byte[] good = Files.readAllBytes(lib);
        byte[] bad = good.clone();
        bad[bad.length / 2] ^= 0x55;
        Files.write(lib, bad);
        String impl = runAndKill(tmpdir);
        assertTrue(impl.startsWith("LZ4Factory:JNI"), "child used " + impl);
        assertArrayEquals(good, Files.readAllBytes(lib), "the damaged copy was not replaced by the library's bytes");
        assertEquals(files, filesUnder(tmpdir));
    }
}
