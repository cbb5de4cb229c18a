package io.tsdb.core;

import java.util.List;

/** A label set and samples in timestamp order. */
public record TimeSeries(Labels labels, List<Sample> samples) {
    public TimeSeries {
        java.util.Objects.requireNonNull(labels, "labels");
        java.util.Objects.requireNonNull(samples, "samples");
        samples = List.copyOf(samples);
    }

    /** {@code TimeSeries.of(Labels.of("__name__", "up"), new Sample(t, 1))}. */
    public static TimeSeries of(Labels labels, Sample... samples) {
        java.util.Objects.requireNonNull(samples, "samples");
        return new TimeSeries(labels, List.of(samples));
    }

    /** One sample: {@code TimeSeries.of(labels, t, v)}. */
    public static TimeSeries of(Labels labels, long timestamp, double value) {
        return new TimeSeries(labels, List.of(new Sample(timestamp, value)));
    }
}
