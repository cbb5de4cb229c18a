package io.tsdb.query.promql;

/** The type a PromQL expression evaluates to. */
public enum ValueType {
    /** A single number. */
    SCALAR("scalar"),
    /** One sample per series, at one time. */
    VECTOR("instant vector"),
    /** A range of samples per series. */
    MATRIX("range vector"),
    /** A string literal. */
    STRING("string");

    private final String text;

    ValueType(String text) {
        this.text = text;
    }

    @Override
    public String toString() {
        return text;
    }
}
