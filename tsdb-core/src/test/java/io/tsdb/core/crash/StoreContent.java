package io.tsdb.core.crash;

import io.tsdb.core.Labels;
import io.tsdb.core.StorageImpl;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Reads a whole store through the public read primitives, bit-exactly. */
final class StoreContent {
    private StoreContent() {}

    /** Every live series (by labels) with its samples as {t, raw bits} pairs, in timestamp order. */
    static TreeMap<Labels, List<long[]>> dump(StorageImpl store) {
        return io.tsdb.core.TestUtil.dump(store);
    }

    /**
     * SHA-256 over every series with at least one sample (labels as length-prefixed UTF-8 names and
     * values, in label order), its samples (timestamp, raw value bits), series sorted by labels.
     */
    static String hash(Map<Labels, List<long[]>> content) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
        byte[] buf = new byte[8];
        for (Map.Entry<Labels, List<long[]>> e : content.entrySet()) {
            if (e.getValue().isEmpty()) {
                continue;
            }
            Labels l = e.getKey();
            putLong(md, buf, l.size());
            for (int i = 0; i < l.size(); i++) {
                putString(md, buf, l.name(i));
                putString(md, buf, l.value(i));
            }
            putLong(md, buf, e.getValue().size());
            for (long[] s : e.getValue()) {
                putLong(md, buf, s[0]);
                putLong(md, buf, s[1]);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static String hash(StorageImpl store) {
        return hash(dump(store));
    }

    /** Total samples of a dump. */
    static long samples(Map<Labels, List<long[]>> content) {
        long n = 0;
        for (List<long[]> l : content.values()) {
            n += l.size();
        }
        return n;
    }

    /** First difference between two dumps, for assertion messages; null when equal. */
    static String firstDifference(Map<Labels, List<long[]>> expected, Map<Labels, List<long[]>> actual) {
        for (Map.Entry<Labels, List<long[]>> e : expected.entrySet()) {
            List<long[]> a = actual.get(e.getKey());
            List<long[]> x = e.getValue();
            if (a == null) {
                if (!x.isEmpty()) {
                    return "series " + e.getKey() + " missing (" + x.size() + " samples expected)";
                }
                continue;
            }
            for (int i = 0; i < Math.max(a.size(), x.size()); i++) {
                if (i >= a.size()) {
                    return "series " + e.getKey() + ": sample t=" + x.get(i)[0] + " missing (" + a.size() + " of "
                            + x.size() + " present)";
                }
                if (i >= x.size()) {
                    return "series " + e.getKey() + ": unexpected sample t=" + a.get(i)[0];
                }
                if (a.get(i)[0] != x.get(i)[0] || a.get(i)[1] != x.get(i)[1]) {
                    return "series " + e.getKey() + " sample " + i + ": expected t=" + x.get(i)[0] + " bits="
                            + Long.toHexString(x.get(i)[1]) + ", got t=" + a.get(i)[0] + " bits="
                            + Long.toHexString(a.get(i)[1]);
                }
            }
        }
        for (Map.Entry<Labels, List<long[]>> e : actual.entrySet()) {
            if (!expected.containsKey(e.getKey()) && !e.getValue().isEmpty()) {
                return "unexpected series " + e.getKey() + " with "
                        + e.getValue().size() + " samples";
            }
        }
        return null;
    }

    private static void putString(MessageDigest md, byte[] buf, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        putLong(md, buf, b.length);
        md.update(b);
    }

    private static void putLong(MessageDigest md, byte[] buf, long v) {
        for (int i = 7; i >= 0; i--) {
            buf[i] = (byte) v;
            v >>>= 8;
        }
        md.update(buf);
    }

    /** Deletes a directory tree (best effort for files that vanish meanwhile). */
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
}
