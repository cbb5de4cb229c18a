package io.tsdb.core;

import java.util.List;

/** A label set and samples in timestamp order. */
public record TimeSeries(Labels labels, List<Sample> samples) {
    /**
     * @throws NullPointerException if {@code labels}, {@code samples} or one of the samples is null
     *     (the message names the parameter and the index)
     */
    public TimeSeries {
        java.util.Objects.requireNonNull(labels, "labels");
        java.util.Objects.requireNonNull(samples, "samples");
        samples = copyOf(samples);
    }

    /** {@code TimeSeries.of(Labels.of("__name__", "up"), new Sample(t, 1))}. */
    public static TimeSeries of(Labels labels, Sample... samples) {
        java.util.Objects.requireNonNull(samples, "samples");
        return new TimeSeries(labels, java.util.Arrays.asList(samples));
    }

    private static List<Sample> copyOf(List<Sample> samples) {
        try {
            return List.copyOf(samples); // no copy when it already is an immutable list
        } catch (NullPointerException e) {
            int i = 0;
            for (Sample x : samples) {
                if (x == null) {
                    throw new NullPointerException("samples[" + i + "]"); // as "series[i]" is named elsewhere
                }
                i++;
            }
            throw e;
        }
    }

    /** One sample: {@code TimeSeries.of(labels, t, v)}. */
    public static TimeSeries of(Labels labels, long timestamp, double value) {
        return new TimeSeries(labels, List.of(new Sample(timestamp, value)));
    }
}
