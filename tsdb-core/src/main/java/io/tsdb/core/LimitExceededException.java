package io.tsdb.core;

/** Input exceeds a configured limit (label count, name length, value length, total label bytes, series count). The message names the limit. */
public class LimitExceededException extends IllegalArgumentException {
    private final String limit;

    public LimitExceededException(String limit, String message) {
        super(message);
        this.limit = limit;
    }

    /** The name of the limit that was exceeded, e.g. {@code maxLabelsPerSeries}. */
    public String limit() {
        return limit;
    }
}
