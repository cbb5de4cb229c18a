package io.tsdb.core;

/** A sample has the same timestamp as the newest sample of its series but a different value (bits). */
public class DuplicateSampleException extends SampleRejectedException {
    /** @param message names the series and timestamp, the stored and the new value */
    public DuplicateSampleException(String message) {
        super(message);
    }
}
