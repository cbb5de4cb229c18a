package io.tsdb.core;

/**
 * Iterates one series' samples in timestamp order, lazily (chunk by chunk). Not thread-safe.
 * FROZEN API: tsdb-query codes against it.
 */
public interface SampleIterator {
    /** Advances to the next sample; false when exhausted. */
    boolean next();

    /** Advances to the first sample with timestamp >= t (may stay on the current one); false when none. */
    default boolean seek(long t) {
        while (next()) {
            if (timestamp() >= t) {
                return true;
            }
        }
        return false;
    }

    long timestamp();

    double value();

    SampleIterator EMPTY = new SampleIterator() {
        public boolean next() { return false; }
        public long timestamp() { throw new IllegalStateException("empty"); }
        public double value() { throw new IllegalStateException("empty"); }
    };
}
