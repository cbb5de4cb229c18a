package io.tsdb.core;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * An immutable label set sorted by name. The metric name is the label {@code __name__}.
 * FROZEN API (tsdb-query codes against these methods); the core module implements them.
 *
 * <p>Rules (checked on construction, {@link InvalidLabelsException} otherwise):
 * <ul>
 *   <li>names are non-empty and match {@code [a-zA-Z_][a-zA-Z0-9_]*} (the Prometheus label-name
 *       charset; the metric name is the value of {@code __name__} and may hold any text);</li>
 *   <li>no name appears twice ({@code label name "x" is not unique});</li>
 *   <li>an empty value means the label is absent: it is dropped (Prometheus semantics);</li>
 *   <li>values are valid Unicode: an unpaired surrogate is rejected, so that two different
 *       strings never encode to the same UTF-8 bytes;</li>
 *   <li>labels are sorted by name, so every permutation of the same pairs is one label set.</li>
 * </ul>
 * Size limits (count, lengths, total bytes) depend on the store's options and are checked by
 * {@link StorageImpl} ({@link LimitExceededException}). An empty label set can be built (it is
 * useful to queries) but cannot be written.
 *
 * <p>{@link #hash()} is XXH64 (seed 0) over the canonical byte form
 * {@code name₁ 0xFF value₁ 0xFF name₂ 0xFF value₂ 0xFF ...} with UTF-8 names and values; 0xFF
 * never occurs in UTF-8, so the form is unambiguous. It is stable across runs and JVMs (series are
 * routed to WAL shards by it).
 *
 * <p>Immutable, so thread-safe; its {@link Builder} is not.
 */
public final class Labels implements Comparable<Labels> {
    /** The label that holds the metric name: {@value}. */
    public static final String METRIC_NAME = "__name__";

    private static final Labels EMPTY = new Labels(new String[0], XxHash64.hash(new byte[0], 0, 0, 0L));

    /** Alternating sorted names and values. */
    private final String[] nv;

    private final long hash;

    private Labels(String[] nv, long hash) {
        this.nv = nv;
        this.hash = hash;
    }

    /** Trusted constructor: nv already sorted, validated and without empty values. */
    static Labels ofSortedTrusted(String[] nv) {
        return nv.length == 0 ? EMPTY : new Labels(nv, computeHash(nv));
    }

    /**
     * From alternating names and values: {@code Labels.of("__name__", "up", "job", "a")}. Pairs with
     * an empty value are dropped.
     *
     * @param namesAndValues name, value, name, value, ... in any name order
     * @return the sorted label set ({@link #empty()} when no value is non-empty)
     * @throws NullPointerException     if the array or any name or value is null
     * @throws IllegalArgumentException if the count is odd
     * @throws InvalidLabelsException   if a name is invalid or repeated, or a value holds an unpaired
     *                                  surrogate
     */
    public static Labels of(String... namesAndValues) {
        Objects.requireNonNull(namesAndValues, "namesAndValues");
        if ((namesAndValues.length & 1) != 0) {
            throw new IllegalArgumentException(
                    "Labels.of needs alternating names and values, got an odd count " + namesAndValues.length);
        }
        int n = namesAndValues.length / 2;
        String[] names = new String[n];
        String[] values = new String[n];
        for (int i = 0; i < n; i++) {
            names[i] = Objects.requireNonNull(namesAndValues[2 * i], "label name #" + i);
            values[i] = Objects.requireNonNull(namesAndValues[2 * i + 1], "label value of \"" + names[i] + "\"");
        }
        return fromArrays(names, values, n);
    }

    /**
     * From a map of names to values. Entries with an empty value are dropped.
     *
     * @param map label names to values
     * @return the sorted label set ({@link #empty()} when no value is non-empty)
     * @throws NullPointerException   if the map or any name or value is null
     * @throws InvalidLabelsException if a name is invalid, or a value holds an unpaired surrogate
     */
    public static Labels of(Map<String, String> map) {
        Objects.requireNonNull(map, "map");
        int n = map.size();
        String[] names = new String[n];
        String[] values = new String[n];
        int i = 0;
        for (Map.Entry<String, String> e : map.entrySet()) {
            names[i] = Objects.requireNonNull(e.getKey(), "label name");
            values[i] = Objects.requireNonNull(e.getValue(), "label value of \"" + names[i] + "\"");
            i++;
        }
        return fromArrays(names, values, i);
    }

    /** {@return the empty label set} It can be queried but not written. */
    public static Labels empty() {
        return EMPTY;
    }

    /** {@return a new, empty builder} */
    public static Builder builder() {
        return new Builder();
    }

    private static Labels fromArrays(String[] names, String[] values, int n) {
        // sort by name (insertion sort for small sets, index sort otherwise)
        Integer[] idx = new Integer[n];
        boolean sorted = true;
        for (int i = 0; i < n; i++) {
            idx[i] = i;
            if (i > 0 && names[i - 1].compareTo(names[i]) > 0) {
                sorted = false;
            }
        }
        if (!sorted) {
            Arrays.sort(idx, (a, b) -> names[a].compareTo(names[b]));
        }
        int kept = 0;
        for (int i = 0; i < n; i++) {
            String name = names[idx[i]];
            validateName(name);
            if (i > 0 && name.equals(names[idx[i - 1]])) {
                throw new InvalidLabelsException("label name \"" + name + "\" is not unique");
            }
            String value = values[idx[i]];
            validateValue(name, value);
            if (!value.isEmpty()) {
                kept++;
            }
        }
        if (kept == 0) {
            return EMPTY;
        }
        String[] nv = new String[kept * 2];
        int j = 0;
        for (int i = 0; i < n; i++) {
            String value = values[idx[i]];
            if (!value.isEmpty()) {
                nv[j++] = names[idx[i]];
                nv[j++] = value;
            }
        }
        return new Labels(nv, computeHash(nv));
    }

    /**
     * Checks a metric name (null: none) against {@code [a-zA-Z_:][a-zA-Z0-9_:]*}, the names PromQL
     * selects without quoting.
     */
    static void validateMetricName(String name) {
        if (name == null) {
            return;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || c == '_'
                    || c == ':'
                    || (i > 0 && c >= '0' && c <= '9');
            if (!ok) {
                String shown = name.length() > SHORT_VALUE_CHARS ? name.substring(0, SHORT_VALUE_CHARS) + "..." : name;
                throw new InvalidLabelsException("invalid metric name \"" + escape(shown) + "\": must match "
                        + "[a-zA-Z_:][a-zA-Z0-9_:]* (character " + i + " is '" + c + "'); "
                        + "StorageOptions.utf8MetricNames(true) accepts any name, selected as {__name__=\"...\"}");
            }
        }
    }

    /** Checks a label name against {@code [a-zA-Z_][a-zA-Z0-9_]*}. */
    static void validateName(String name) {
        if (name.isEmpty()) {
            throw new InvalidLabelsException("empty label name");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok =
                    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
            if (!ok) {
                throw new InvalidLabelsException("invalid label name \"" + escape(name)
                        + "\": must match [a-zA-Z_][a-zA-Z0-9_]* (bad character at index " + i + ")");
            }
        }
    }

    /** Rejects unpaired surrogates (values must be encodable as UTF-8 without replacement). */
    static void validateValue(String name, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                    i++;
                    continue;
                }
                throw new InvalidLabelsException(
                        "label \"" + name + "\" has an invalid value: unpaired surrogate at index " + i);
            } else if (Character.isLowSurrogate(c)) {
                throw new InvalidLabelsException(
                        "label \"" + name + "\" has an invalid value: unpaired surrogate at index " + i);
            }
        }
    }

    /** {@return the number of labels} */
    public int size() {
        return nv.length >> 1;
    }

    /** {@return whether there is no label} */
    public boolean isEmpty() {
        return nv.length == 0;
    }

    /**
     * The name of the {@code i}-th label in name order.
     *
     * @param i index, {@code 0 <= i < size()}
     * @return the name
     * @throws IndexOutOfBoundsException if {@code i} is out of range
     */
    public String name(int i) {
        Objects.checkIndex(i, size());
        return nv[2 * i];
    }

    /**
     * The value of the {@code i}-th label in name order.
     *
     * @param i index, {@code 0 <= i < size()}
     * @return the value, never empty
     * @throws IndexOutOfBoundsException if {@code i} is out of range
     */
    public String value(int i) {
        Objects.checkIndex(i, size());
        return nv[2 * i + 1];
    }

    /**
     * The value of a label, or null when absent.
     *
     * @param name the label name
     * @return the value, or null
     * @throws NullPointerException if {@code name} is null and the set is not empty
     */
    public String get(String name) {
        int lo = 0;
        int hi = size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = nv[2 * mid].compareTo(name);
            if (c < 0) {
                lo = mid + 1;
            } else if (c > 0) {
                hi = mid - 1;
            } else {
                return nv[2 * mid + 1];
            }
        }
        return null;
    }

    /** {@return the metric name (the value of {@code __name__}), or null} */
    public String metricName() {
        return get(METRIC_NAME);
    }

    /** {@return a builder pre-filled with these labels, to add, replace or remove some} */
    public Builder toBuilder() {
        Builder b = new Builder();
        for (int i = 0; i < nv.length; i += 2) {
            b.map.put(nv[i], nv[i + 1]);
        }
        return b;
    }

    /** {@return the labels as an unmodifiable map, iterated in name order} */
    public Map<String, String> toMap() {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < nv.length; i += 2) {
            m.put(nv[i], nv[i + 1]);
        }
        return Collections.unmodifiableMap(m);
    }

    /** {@return the stable 64-bit hash of the sorted labels (the SeriesId's value; see the class comment)} */
    public long hash() {
        return hash;
    }

    /** {@return the number of UTF-8 bytes of all names and values (used for the total-size limit)} */
    public int utf8Bytes() {
        int total = 0;
        for (String s : nv) {
            total += utf8Length(s);
        }
        return total;
    }

    static int utf8Length(String s) {
        int n = s.length();
        int bytes = n;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                if (c < 0x800) {
                    bytes += 1;
                } else if (Character.isHighSurrogate(c)) {
                    bytes += 2; // 4 bytes for the pair of 2 chars
                    i++;
                } else {
                    bytes += 2;
                }
            }
        }
        return bytes;
    }

    /** Package-private raw access (no copy) for codecs. */
    String[] raw() {
        return nv;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        return o instanceof Labels l && l.hash == hash && Arrays.equals(l.nv, nv);
    }

    @Override
    public int hashCode() {
        return (int) (hash ^ (hash >>> 32));
    }

    @Override
    public int compareTo(Labels o) {
        int n = Math.min(nv.length, o.nv.length);
        for (int i = 0; i < n; i++) {
            int c = nv[i].compareTo(o.nv[i]);
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(nv.length, o.nv.length);
    }

    /** Prometheus notation: {@code up{job="a"}}. */
    @Override
    public String toString() {
        return render(Integer.MAX_VALUE, Integer.MAX_VALUE);
    }

    /** Labels shown by {@link #toShortString()}. */
    static final int SHORT_LABELS = 8;
    /** Characters of a value shown by {@link #toShortString()}. */
    static final int SHORT_VALUE_CHARS = 64;

    /**
     * The form used in error messages: like {@link #toString()}, but at most
     * {@value #SHORT_LABELS} labels and {@value #SHORT_VALUE_CHARS} characters per value, with
     * what was left out counted (a 101-label set does not fill a log line).
     *
     * @return the short form, e.g. {@code up{job="a"}}
     */
    public String toShortString() {
        return render(SHORT_LABELS, SHORT_VALUE_CHARS);
    }

    private String render(int maxLabels, int maxValueChars) {
        StringBuilder sb = new StringBuilder();
        String metric = get(METRIC_NAME);
        if (metric != null) {
            sb.append(metric);
        }
        sb.append('{');
        boolean first = true;
        int shown = 0;
        int total = nv.length / 2 - (metric != null ? 1 : 0);
        for (int i = 0; i < nv.length; i += 2) {
            if (nv[i].equals(METRIC_NAME)) {
                continue;
            }
            if (shown == maxLabels) {
                sb.append(", ... ").append(total - shown).append(" more labels");
                break;
            }
            if (!first) {
                sb.append(", ");
            }
            first = false;
            String v = nv[i + 1];
            if (v.length() > maxValueChars) {
                sb.append(nv[i])
                        .append("=\"")
                        .append(escape(v.substring(0, maxValueChars)))
                        .append("...\" (")
                        .append(v.length())
                        .append(" chars)");
            } else {
                sb.append(nv[i]).append("=\"").append(escape(v)).append('"');
            }
            shown++;
        }
        return sb.append('}').toString();
    }

    private static String escape(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String rep = switch (c) {
                case '\\' -> "\\\\";
                case '"' -> "\\\"";
                case '\n' -> "\\n";
                default -> null;
            };
            if (rep != null && sb == null) {
                sb = new StringBuilder(s.length() + 8).append(s, 0, i);
            }
            if (sb != null) {
                if (rep != null) {
                    sb.append(rep);
                } else {
                    sb.append(c);
                }
            }
        }
        return sb == null ? s : sb.toString();
    }

    // ---- hashing ----

    static long computeHash(String[] nv) {
        int len = 0;
        for (String s : nv) {
            len += utf8Length(s) + 1;
        }
        byte[] buf = new byte[len];
        int p = 0;
        for (String s : nv) {
            p = encodeUtf8(s, buf, p);
            buf[p++] = (byte) 0xFF;
        }
        return XxHash64.hash(buf, 0, len, 0L);
    }

    /** Encodes a valid (surrogate-checked) string as UTF-8 into buf at p; returns the new position. */
    static int encodeUtf8(String s, byte[] buf, int p) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                buf[p++] = (byte) c;
            } else if (c < 0x800) {
                buf[p++] = (byte) (0xC0 | (c >> 6));
                buf[p++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < n) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                buf[p++] = (byte) (0xF0 | (cp >> 18));
                buf[p++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                buf[p++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                buf[p++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                buf[p++] = (byte) (0xE0 | (c >> 12));
                buf[p++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                buf[p++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        return p;
    }

    static String decodeUtf8(byte[] buf, int off, int len) {
        return new String(buf, off, len, StandardCharsets.UTF_8);
    }

    /** Builds a label set by name; not thread-safe. Obtain one from {@link #builder()} or {@link #toBuilder()}. */
    public static final class Builder {
        private final TreeMap<String, String> map = new TreeMap<>();

        private Builder() {}

        /**
         * Sets a label; an empty value removes it (Prometheus semantics). Names are checked by
         * {@link #build()}.
         *
         * @param name  the label name
         * @param value the value; empty removes the label
         * @return this builder
         * @throws NullPointerException if {@code name} or {@code value} is null
         */
        public Builder set(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            if (value.isEmpty()) {
                map.remove(name);
            } else {
                map.put(name, value);
            }
            return this;
        }

        /**
         * Removes a label if present.
         *
         * @param name the label name
         * @return this builder
         * @throws NullPointerException if {@code name} is null
         */
        public Builder remove(String name) {
            Objects.requireNonNull(name, "name");
            map.remove(name);
            return this;
        }

        /**
         * Validates and sorts.
         *
         * @return the label set
         * @throws InvalidLabelsException if a name is invalid, or a value holds an unpaired surrogate
         */
        public Labels build() {
            if (map.isEmpty()) {
                return EMPTY;
            }
            String[] nv = new String[map.size() * 2];
            int i = 0;
            for (Map.Entry<String, String> e : map.entrySet()) {
                validateName(e.getKey());
                validateValue(e.getKey(), e.getValue());
                nv[i++] = e.getKey();
                nv[i++] = e.getValue();
            }
            return new Labels(nv, computeHash(nv));
        }
    }
}
