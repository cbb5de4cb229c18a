package io.tsdb.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.roaringbitmap.RoaringBitmap;

/** Helpers shared by the tests: read a whole store into a comparable model. */
public final class TestUtil {
    private TestUtil() {}

    /** Every series (by labels) with all its samples as (t, raw bits) pairs. */
    public static TreeMap<Labels, List<long[]>> dump(StorageImpl store) {
        TreeMap<Labels, List<long[]>> out = new TreeMap<>();
        RoaringBitmap all = store.allPostings();
        for (int ref : all) {
            Labels l = store.seriesLabels(ref);
            if (l == null) {
                continue;
            }
            List<long[]> samples = new ArrayList<>();
            SampleIterator it = store.iterator(ref, Long.MIN_VALUE, Long.MAX_VALUE);
            while (it.next()) {
                samples.add(new long[] {it.timestamp(), Double.doubleToRawLongBits(it.value())});
            }
            if (out.put(l, samples) != null) {
                throw new AssertionError("two series with labels " + l);
            }
        }
        return out;
    }

    /** A printable, exact form of a dump (for assertEquals). */
    static String render(Map<Labels, List<long[]>> m) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<Labels, List<long[]>> e : m.entrySet()) {
            if (e.getValue().isEmpty()) {
                continue;
            }
            sb.append(e.getKey()).append(':');
            for (long[] s : e.getValue()) {
                sb.append(' ').append(s[0]).append('=').append(Long.toHexString(s[1]));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    static String renderStore(StorageImpl store) {
        return render(dump(store));
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        }
    }

    static void copyRecursively(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path x : s.toList()) {
                Path target = to.resolve(from.relativize(x).toString());
                if (Files.isDirectory(x)) {
                    Files.createDirectories(target);
                } else {
                    try {
                        Files.copy(x, target);
                    } catch (java.nio.file.NoSuchFileException e) {
                        // deleted while copying (e.g. a temp file): a crash image may lack it
                    }
                }
            }
        }
    }

    static StorageOptions.Builder small() {
        return StorageOptions.builder()
                .shards(4)
                .checkpointInterval(java.time.Duration.ZERO)
                .checkpointWalBytes(0)
                .replayParallelism(2);
    }
}
