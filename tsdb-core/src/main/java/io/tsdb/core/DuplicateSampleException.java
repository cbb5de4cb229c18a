package io.tsdb.core;

/** A sample has the same timestamp as the newest sample of its series but a different value (bits). */
public class DuplicateSampleException extends SampleRejectedException {
    public DuplicateSampleException(String message) {
        super(message);
    }
}
