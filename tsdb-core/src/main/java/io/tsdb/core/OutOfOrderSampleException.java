package io.tsdb.core;

/** A sample's timestamp is older than the newest sample of its series (and no out-of-order window allows it). */
public class OutOfOrderSampleException extends SampleRejectedException {
    /** @param message names the series, the timestamp and the series' newest */
    public OutOfOrderSampleException(String message) {
        super(message);
    }
}
