package io.tsdb.query.promql;

/** The query ran longer than the engine's timeout. */
public final class QueryTimeoutException extends PromqlEvalException {
    private static final long serialVersionUID = 1L;

    /** @param message what timed out */
    public QueryTimeoutException(String message) {
        super(message);
    }
}
