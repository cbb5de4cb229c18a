package io.tsdb.core;

/**
 * Iterates one series' samples in timestamp order, lazily (chunk by chunk). Not thread-safe.
 * FROZEN API: tsdb-query codes against it.
 */
public interface SampleIterator {
    /** {@return true if it advanced to the next sample, false when exhausted} */
    boolean next();

    /**
     * Advances to the first sample with {@code timestamp >= t}; false when none. The default
     * implementation always calls {@link #next()} first, so it never stays on the current sample.
     *
     * @param t the timestamp to reach, in ms since the epoch
     * @return true if positioned on such a sample, false when exhausted
     */
    default boolean seek(long t) {
        while (next()) {
            if (timestamp() >= t) {
                return true;
            }
        }
        return false;
    }

    /** {@return the current sample's timestamp, in ms since the epoch} Valid after {@code next()} returned true. */
    long timestamp();

    /** {@return the current sample's value} Valid after {@code next()} returned true. */
    double value();

    /** An iterator with no samples; its {@code timestamp()} and {@code value()} throw {@link IllegalStateException}. */
    SampleIterator EMPTY = new SampleIterator() {
        public boolean next() {
            return false;
        }

        public long timestamp() {
            throw new IllegalStateException("empty");
        }

        public double value() {
            throw new IllegalStateException("empty");
        }
    };
}
