package io.tsdb.core;

/** One sample: a millisecond timestamp and a double (NaN payloads preserved bit-exactly). */
public record Sample(long timestamp, double value) {
    /** Prometheus's staleness marker: a NaN with this exact bit pattern. */
    public static final long STALE_NAN_BITS = 0x7ff0000000000002L;
    public static final double STALE_NAN = Double.longBitsToDouble(STALE_NAN_BITS);

    public static boolean isStaleMarker(double v) {
        return Double.doubleToRawLongBits(v) == STALE_NAN_BITS;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Sample s && s.timestamp == timestamp
                && Double.doubleToRawLongBits(s.value) == Double.doubleToRawLongBits(value);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(timestamp) * 31 + Long.hashCode(Double.doubleToRawLongBits(value));
    }
}
