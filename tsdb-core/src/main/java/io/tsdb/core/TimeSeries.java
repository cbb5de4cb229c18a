package io.tsdb.core;

import java.util.List;

/** A label set and samples in timestamp order. */
public record TimeSeries(Labels labels, List<Sample> samples) {
    public TimeSeries {
        java.util.Objects.requireNonNull(labels, "labels");
        java.util.Objects.requireNonNull(samples, "samples");
        samples = List.copyOf(samples);
    }
}
