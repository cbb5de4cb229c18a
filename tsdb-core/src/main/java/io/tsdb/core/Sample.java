package io.tsdb.core;

/**
 * One sample: a millisecond timestamp and a double (NaN payloads preserved bit-exactly). Immutable.
 * Equality compares the value's raw bits, so {@code NaN} equals the same {@code NaN} and
 * {@code 0.0} differs from {@code -0.0}.
 *
 * @param timestamp milliseconds since the Unix epoch (UTC); {@code Long.MIN_VALUE} and
 *                  {@code Long.MAX_VALUE} are reserved and rejected on write
 * @param value     the value, any double
 */
public record Sample(long timestamp, double value) {
    /** Prometheus's staleness marker: a NaN with this exact bit pattern. */
    public static final long STALE_NAN_BITS = 0x7ff0000000000002L;
    /** Prometheus's staleness marker as a double (compare with {@link #isStaleMarker}, not {@code ==}). */
    public static final double STALE_NAN = Double.longBitsToDouble(STALE_NAN_BITS);

    /**
     * Whether a value is the staleness marker, by its exact bits.
     *
     * @param v a value
     * @return true for {@link #STALE_NAN} only (not for other NaNs)
     */
    public static boolean isStaleMarker(double v) {
        return Double.doubleToRawLongBits(v) == STALE_NAN_BITS;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Sample s
                && s.timestamp == timestamp
                && Double.doubleToRawLongBits(s.value) == Double.doubleToRawLongBits(value);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(timestamp) * 31 + Long.hashCode(Double.doubleToRawLongBits(value));
    }
}
