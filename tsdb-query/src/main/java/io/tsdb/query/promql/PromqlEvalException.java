package io.tsdb.query.promql;

/** A query failed while being evaluated (bad data for the operation, a limit, a timeout). */
public class PromqlEvalException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what failed */
    public PromqlEvalException(String message) {
        super(message);
    }
}
