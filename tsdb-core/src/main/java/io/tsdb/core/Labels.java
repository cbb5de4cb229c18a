package io.tsdb.core;

import java.util.Map;

/**
 * An immutable label set sorted by name. The metric name is the label {@code __name__}.
 * FROZEN API (tsdb-query codes against these methods); the core module implements them.
 */
public final class Labels implements Comparable<Labels> {
    public static final String METRIC_NAME = "__name__";

    private Labels() {}

    /** From alternating names and values: {@code Labels.of("__name__", "up", "job", "a")}. */
    public static Labels of(String... namesAndValues) { throw new UnsupportedOperationException("todo"); }

    public static Labels of(Map<String, String> map) { throw new UnsupportedOperationException("todo"); }

    public static Labels empty() { throw new UnsupportedOperationException("todo"); }

    public static Builder builder() { throw new UnsupportedOperationException("todo"); }

    public int size() { throw new UnsupportedOperationException("todo"); }

    public String name(int i) { throw new UnsupportedOperationException("todo"); }

    public String value(int i) { throw new UnsupportedOperationException("todo"); }

    /** The value of a label, or null when absent. */
    public String get(String name) { throw new UnsupportedOperationException("todo"); }

    /** A builder pre-filled with these labels, to add, replace or remove some. */
    public Builder toBuilder() { throw new UnsupportedOperationException("todo"); }

    public Map<String, String> toMap() { throw new UnsupportedOperationException("todo"); }

    /** The stable 64-bit hash of the sorted labels (the SeriesId's value). */
    public long hash() { throw new UnsupportedOperationException("todo"); }

    @Override
    public int compareTo(Labels o) { throw new UnsupportedOperationException("todo"); }

    /** Prometheus notation: {@code up{job="a"}}. */
    @Override
    public String toString() { throw new UnsupportedOperationException("todo"); }

    public static final class Builder {
        private Builder() {}
        /** Sets a label; an empty value removes it (Prometheus semantics). */
        public Builder set(String name, String value) { throw new UnsupportedOperationException("todo"); }
        public Builder remove(String name) { throw new UnsupportedOperationException("todo"); }
        /** Validates (InvalidLabelsException) and sorts. */
        public Labels build() { throw new UnsupportedOperationException("todo"); }
    }
}
