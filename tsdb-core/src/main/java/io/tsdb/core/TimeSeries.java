package io.tsdb.core;

import java.util.List;

/**
 * A label set and samples in timestamp order. Immutable (the sample list is copied).
 *
 * @param labels  the series' labels
 * @param samples the samples, oldest first (on write, a sample older than the one before it is
 *                rejected as out of order unless {@link StorageOptions#outOfOrderWindow()} allows it)
 */
public record TimeSeries(Labels labels, List<Sample> samples) {
    /**
     * Checks and copies.
     *
     * @param labels  the series' labels
     * @param samples the samples; copied
     * @throws NullPointerException if {@code labels}, {@code samples} or one of the samples is null
     *     (the message names the parameter and the index)
     */
    public TimeSeries {
        java.util.Objects.requireNonNull(labels, "labels");
        java.util.Objects.requireNonNull(samples, "samples");
        samples = copyOf(samples);
    }

    /**
     * {@code TimeSeries.of(Labels.of("__name__", "up"), new Sample(t, 1))}.
     *
     * @param labels  the series' labels
     * @param samples the samples, oldest first
     * @return the series
     * @throws NullPointerException if an argument or a sample is null
     */
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

    /**
     * One sample: {@code TimeSeries.of(labels, t, v)}.
     *
     * @param labels    the series' labels
     * @param timestamp milliseconds since the Unix epoch
     * @param value     the value
     * @return the series
     * @throws NullPointerException if {@code labels} is null
     */
    public static TimeSeries of(Labels labels, long timestamp, double value) {
        return new TimeSeries(labels, List.of(new Sample(timestamp, value)));
    }
}
