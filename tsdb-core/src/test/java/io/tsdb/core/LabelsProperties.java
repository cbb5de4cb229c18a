package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.testing.Gen;
import io.tsdb.testing.Seeds;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LabelsProperties {

    private static final String NAME_CHARS = "abcde_Z0";
    private static final String VALUE_CHARS = "abcdefghijklmnopqrstuvwxyz\"\\\né€";

    /** 0..8 labels: names of 1..6 chars of [a-e_Z0] not starting with a digit, values of 0..8 chars (quotes, escapes, non-ASCII). */
    static Map<String, String> labelMap(Gen g) {
        int size = g.size(0, 8);
        Map<String, String> m = new LinkedHashMap<>();
        for (int attempts = 0; m.size() < size && attempts < 100; attempts++) {
            String name = g.string(NAME_CHARS, 1, 6);
            if (!Character.isDigit(name.charAt(0))) {
                m.putIfAbsent(name, g.string(VALUE_CHARS, 0, 8));
            }
        }
        return m;
    }

    @Test
    void everyPermutationIsOneLabelSet() {
        Seeds.check(300, g -> everyPermutationIsOneLabelSet(labelMap(g), g.anyLong()));
    }

    private static void everyPermutationIsOneLabelSet(Map<String, String> map, long seed) {
        List<Map.Entry<String, String>> entries = new ArrayList<>(map.entrySet());
        Labels reference = Labels.of(map);
        Collections.shuffle(entries, new Random(seed));
        String[] nv = new String[entries.size() * 2];
        Labels.Builder b = Labels.builder();
        for (int i = 0; i < entries.size(); i++) {
            nv[2 * i] = entries.get(i).getKey();
            nv[2 * i + 1] = entries.get(i).getValue();
            b.set(entries.get(i).getKey(), entries.get(i).getValue());
        }
        Labels shuffled = Labels.of(nv);
        assertEquals(reference, shuffled);
        assertEquals(reference.hash(), shuffled.hash());
        assertEquals(reference.hashCode(), shuffled.hashCode());
        assertEquals(0, reference.compareTo(shuffled));
        assertEquals(reference, b.build());
        assertEquals(reference.toString(), shuffled.toString());
        // sorted by name, empty values dropped
        int nonEmpty = (int) map.values().stream().filter(v -> !v.isEmpty()).count();
        assertEquals(nonEmpty, reference.size());
        for (int i = 1; i < reference.size(); i++) {
            assertTrue(reference.name(i - 1).compareTo(reference.name(i)) < 0);
        }
        for (Map.Entry<String, String> e : map.entrySet()) {
            assertEquals(e.getValue().isEmpty() ? null : e.getValue(), reference.get(e.getKey()));
        }
        assertEquals(reference, reference.toBuilder().build());
        assertEquals(reference, Labels.of(reference.toMap()));
    }

    @Test
    void differentLabelSetsDiffer() {
        Seeds.check(300, g -> differentLabelSetsDiffer(labelMap(g), labelMap(g)));
    }

    private static void differentLabelSetsDiffer(Map<String, String> a, Map<String, String> b) {
        Labels la = Labels.of(a);
        Labels lb = Labels.of(b);
        Map<String, String> na = new HashMap<>(a);
        na.values().removeIf(String::isEmpty);
        Map<String, String> nb = new HashMap<>(b);
        nb.values().removeIf(String::isEmpty);
        if (na.equals(nb)) {
            assertEquals(la, lb);
            assertEquals(la.hash(), lb.hash());
        } else {
            assertNotEquals(la, lb);
            assertNotEquals(0, la.compareTo(lb));
            assertEquals(Integer.signum(la.compareTo(lb)), -Integer.signum(lb.compareTo(la)));
            // a 64-bit hash collision among a few hundred tries would be a broken hash
            assertNotEquals(la.hash(), lb.hash());
        }
    }

    @Test
    void hashIsXxh64OfTheCanonicalForm() {
        Seeds.check(200, g -> hashIsXxh64OfTheCanonicalForm(labelMap(g)));
    }

    private static void hashIsXxh64OfTheCanonicalForm(Map<String, String> map) {
        Labels l = Labels.of(map);
        StringBuilder sb = new StringBuilder();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < l.size(); i++) {
            bytes.writeBytes(l.name(i).getBytes(StandardCharsets.UTF_8));
            bytes.write(0xFF);
            bytes.writeBytes(l.value(i).getBytes(StandardCharsets.UTF_8));
            bytes.write(0xFF);
        }
        byte[] b = bytes.toByteArray();
        assertEquals(XxHash64.hash(b, 0, b.length, 0), l.hash(), sb.toString());
    }

    @Test
    void xxhash64KnownVectors() {
        assertEquals(0xEF46DB3751D8E999L, XxHash64.hash(new byte[0], 0, 0, 0));
        byte[] a = "a".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0xD24EC4F1A98C6E5BL, XxHash64.hash(a, 0, 1, 0));
        byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0x44BC2CF5AD770999L, XxHash64.hash(abc, 0, 3, 0));
    }

    @Test
    void hashIsStableAcrossReleases() {
        // routing of series to WAL shards depends on it: it must never change
        Labels l = Labels.of("__name__", "up", "job", "node");
        assertEquals(l.hash(), Labels.of("job", "node", "__name__", "up").hash());
        byte[] b = "__name__\u00ffup\u00ffjob\u00ffnode\u00ff".getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(XxHash64.hash(b, 0, b.length, 0), l.hash());
    }

    @Test
    void validation() {
        InvalidLabelsException dup =
                assertThrows(InvalidLabelsException.class, () -> Labels.of("x", "1", "y", "2", "x", "3"));
        assertEquals("label name \"x\" is not unique", dup.getMessage());
        assertThrows(InvalidLabelsException.class, () -> Labels.of("", "v"));
        InvalidLabelsException bad = assertThrows(InvalidLabelsException.class, () -> Labels.of("a-b", "v"));
        assertTrue(bad.getMessage().contains("a-b"), bad.getMessage());
        assertThrows(InvalidLabelsException.class, () -> Labels.of("1a", "v"));
        assertThrows(InvalidLabelsException.class, () -> Labels.of("é", "v"));
        assertThrows(InvalidLabelsException.class, () -> Labels.of("a", "x\uD800"));
        assertThrows(InvalidLabelsException.class, () -> Labels.of("a", "\uDC00x"));
        assertThrows(
                InvalidLabelsException.class,
                () -> Labels.builder().set("a b", "1").build());
        assertEquals("\uD83D\uDE00", Labels.of("a", "\uD83D\uDE00").get("a")); // a valid pair is fine
        assertThrows(IllegalArgumentException.class, () -> Labels.of("a"));
        NullPointerException npe = assertThrows(NullPointerException.class, () -> Labels.of("a", null));
        assertTrue(npe.getMessage().contains("a"), npe.getMessage());
        assertThrows(NullPointerException.class, () -> Labels.builder().set(null, "x"));
        Map<String, String> m = new LinkedHashMap<>();
        m.put("a", null);
        assertThrows(NullPointerException.class, () -> Labels.of(m));
    }

    @Test
    void emptyValueMeansAbsent() {
        Labels l = Labels.of("__name__", "up", "job", "");
        assertEquals(Labels.of("__name__", "up"), l);
        assertNull(l.get("job"));
        assertEquals(Labels.empty(), Labels.of("a", ""));
        assertEquals(
                Labels.of("a", "1"),
                Labels.of("a", "1", "b", "2").toBuilder().set("b", "").build());
        assertEquals(
                Labels.of("a", "1"),
                Labels.of("a", "1", "b", "2").toBuilder().remove("b").build());
    }

    @Test
    void prometheusNotation() {
        assertEquals(
                "up{instance=\"h:1\", job=\"a\\\"b\"}",
                Labels.of("job", "a\"b", "__name__", "up", "instance", "h:1").toString());
        assertEquals("{a=\"x\\\\y\\n\"}", Labels.of("a", "x\\y\n").toString());
        assertEquals("up{}", Labels.of("__name__", "up").toString());
        assertEquals("up", Labels.of("__name__", "up").metricName());
    }

    @Test
    void compareToIsATotalOrder() {
        Seeds.check(100, g -> compareToIsATotalOrder(List.of(labelMap(g), labelMap(g), labelMap(g))));
    }

    private static void compareToIsATotalOrder(List<Map<String, String>> maps) {
        Labels a = Labels.of(maps.get(0));
        Labels b = Labels.of(maps.get(1));
        Labels c = Labels.of(maps.get(2));
        if (a.compareTo(b) <= 0 && b.compareTo(c) <= 0) {
            assertTrue(a.compareTo(c) <= 0);
        }
        assertEquals(a.compareTo(b) == 0, a.equals(b));
    }

    @Test
    void seriesIdComparesLabels() {
        Labels a = Labels.of("a", "1");
        Labels b = Labels.of("a", "2");
        assertNotEquals(new SeriesId(7, a), new SeriesId(7, b));
        assertEquals(new SeriesId(a.hash(), a), SeriesId.of(Labels.of("a", "1")));
    }
}
