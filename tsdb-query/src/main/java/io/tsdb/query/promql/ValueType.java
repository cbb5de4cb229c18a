package io.tsdb.query.promql;

/** The type a PromQL expression evaluates to. */
public enum ValueType {
    SCALAR("scalar"), VECTOR("instant vector"), MATRIX("range vector"), STRING("string");

    private final String text;

    ValueType(String text) {
        this.text = text;
    }

    @Override
    public String toString() {
        return text;
    }
}
