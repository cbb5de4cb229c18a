package io.tsdb.core;

import java.util.Objects;

/**
 * The stable identity of a series: the 64-bit {@link Labels#hash()} plus the labels themselves.
 * Two label sets with the same hash are two different SeriesIds (equality compares labels), so a
 * hash collision never merges series.
 */
public record SeriesId(long hash, Labels labels) {
    /**
     * @param hash   the label set's hash, normally {@link Labels#hash()}
     * @param labels the labels
     * @throws NullPointerException if {@code labels} is null
     */
    public SeriesId {
        Objects.requireNonNull(labels, "labels");
    }

    /**
     * @param labels the labels
     * @return the id with {@link Labels#hash()}
     * @throws NullPointerException if {@code labels} is null
     */
    public static SeriesId of(Labels labels) {
        Objects.requireNonNull(labels, "labels");
        return new SeriesId(labels.hash(), labels);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SeriesId s && s.hash == hash && s.labels.equals(labels);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(hash);
    }

    @Override
    public String toString() {
        return String.format("%016x %s", hash, labels);
    }
}
