package io.tsdb.core;

/** Base class of the reasons a single sample is rejected (out of order, duplicate, out of bounds). */
public abstract class SampleRejectedException extends IllegalArgumentException {
    /** @param message why the sample was rejected, naming its series */
    protected SampleRejectedException(String message) {
        super(message);
    }
}
