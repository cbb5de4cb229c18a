package io.tsdb.core;

/**
 * A sample's timestamp is outside the accepted range: {@code Long.MIN_VALUE} or {@code Long.MAX_VALUE},
 * later than now + the allowed clock skew (when configured), or older than the retention.
 */
public class OutOfBoundsException extends SampleRejectedException {
    /** @param message names the timestamp, the bound it crossed, and the series */
    public OutOfBoundsException(String message) {
        super(message);
    }
}
