package io.tsdb.query.promql;

/** The query would load more samples into memory than the engine's limit allows. */
public final class TooManySamplesException extends PromqlEvalException {
    private static final long serialVersionUID = 1L;

    /** @param message the limit and where it was hit */
    public TooManySamplesException(String message) {
        super(message);
    }
}
