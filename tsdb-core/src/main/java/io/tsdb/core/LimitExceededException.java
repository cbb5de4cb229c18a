package io.tsdb.core;

/** Input exceeds a configured limit (label count, name length, value length, total label bytes, series count). The message names the limit. */
public class LimitExceededException extends IllegalArgumentException {
    /** The option name of the limit. */
    private final String limit;

    /**
     * @param limit   the option name of the limit, e.g. {@code maxLabelsPerSeries}
     * @param message what exceeded it, with the value and the limit
     */
    public LimitExceededException(String limit, String message) {
        super(message);
        this.limit = limit;
    }

    /** {@return the name of the limit that was exceeded, e.g. {@code maxLabelsPerSeries}} */
    public String limit() {
        return limit;
    }
}
