package io.tsdb.core.crash;

import io.tsdb.core.StorageImpl;
import io.tsdb.wal.ShardedWAL;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The class path of the child JVMs: a snapshot, taken once per test JVM, of the class directories and
 * jars this JVM loaded the engine and the crash package from, followed by {@code java.class.path}.
 * Other helpers rebuild {@code target/classes} and {@code target/test-classes} (and reinstall
 * SNAPSHOT jars) while these tests run; a child started at that moment would not find its main
 * class. The snapshot lives in a temp directory deleted when the JVM exits.
 */
final class ChildClasspath {
    private static String cached;

    private ChildClasspath() {}

    static synchronized String get() {
        if (cached != null) {
            return cached;
        }
        IOException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                cached = snapshot();
                return cached;
            } catch (NoSuchFileException e) {
                last = e; // a file vanished under a concurrent rebuild: try again
                try {
                    Thread.sleep(2000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            } catch (IOException e) {
                last = e;
                break;
            }
        }
        throw new UncheckedIOException("cannot snapshot the child class path", last);
    }

    private static String snapshot() throws IOException {
        Path root = Files.createTempDirectory("tsdb-crash-cp");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                StoreContent.deleteRecursively(root);
            } catch (IOException ignored) {
                // best effort
            }
        }));
        Set<Path> sources = new LinkedHashSet<>();
        for (Class<?> c : List.of(
                CrashWriterMain.class,
                StorageImpl.class,
                ShardedWAL.class,
                org.roaringbitmap.RoaringBitmap.class,
                net.jpountz.lz4.LZ4Factory.class,
                org.HdrHistogram.Histogram.class)) {
            try {
                sources.add(Path.of(
                        c.getProtectionDomain().getCodeSource().getLocation().toURI()));
            } catch (URISyntaxException | RuntimeException e) {
                // unknown location: the java.class.path fallback below covers it
            }
        }
        List<String> entries = new ArrayList<>();
        int n = 0;
        for (Path src : sources) {
            Path dst = root.resolve("e" + n++);
            if (Files.isDirectory(src)) {
                copyTree(src, dst);
            } else {
                dst = root.resolve("e" + n + ".jar");
                Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
            }
            entries.add(dst.toString());
        }
        String probe = CrashWriterMain.class.getName().replace('.', '/') + ".class";
        boolean found = false;
        for (String e : entries) {
            found |= Files.exists(Path.of(e).resolve(probe));
        }
        if (!found) {
            throw new NoSuchFileException(probe + " not in the snapshot " + entries);
        }
        entries.add(System.getProperty("java.class.path"));
        return String.join(java.io.File.pathSeparator, entries);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        List<Path> all;
        try (Stream<Path> s = Files.walk(from)) {
            all = s.toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        {
            for (Path x : all) {
                Path target = to.resolve(from.relativize(x).toString());
                if (Files.isDirectory(x)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(x, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
