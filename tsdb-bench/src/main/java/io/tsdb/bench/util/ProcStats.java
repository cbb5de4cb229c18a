package io.tsdb.bench.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/** Process memory figures from {@code /proc/self/status} and directory sizes. */
public final class ProcStats {
    private ProcStats() {}

    /** A field of /proc/self/status in bytes (e.g. "VmHWM", "VmRSS"), or -1 where unavailable. */
    public static long statusBytes(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    String[] parts = line.substring(field.length() + 1).trim().split("\\s+");
                    long v = Long.parseLong(parts[0]);
                    return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? v * 1024 : v;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** Peak resident set size of this process in bytes, -1 where unknown. */
    public static long peakRssBytes() {
        return statusBytes("VmHWM");
    }

    /** Current resident set size of this process in bytes, -1 where unknown. */
    public static long rssBytes() {
        return statusBytes("VmRSS");
    }

    /** Heap in use now, in bytes. */
    public static long heapUsedBytes() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    /** Total size of the regular files under {@code dir} (0 if it does not exist). */
    public static long dirBytes(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile)
                    .mapToLong(p -> {
                        try {
                            return Files.size(p);
                        } catch (IOException e) {
                            return 0; // deleted concurrently (e.g. a segment dropped by a checkpoint)
                        }
                    })
                    .sum();
        }
    }

    /** Deletes {@code dir} recursively if it exists. */
    /**
     * Copies a directory tree as it is now (files copied one by one, so a store that is open and
     * written meanwhile is copied as a crash at that moment would leave it).
     */
    public static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    try {
                        Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                    } catch (java.nio.file.NoSuchFileException e) {
                        // deleted while copying (a temp file, a segment truncated): a crash could lack it too
                    }
                }
            }
        }
    }

    public static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Human-readable bytes: 1.5 MiB. */
    public static String human(long bytes) {
        if (bytes < 0) {
            return "n/a";
        }
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format("%.1f %s", v, units[u]);
    }
}
