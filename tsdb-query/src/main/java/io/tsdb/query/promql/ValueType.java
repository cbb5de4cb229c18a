package io.tsdb.query.promql;

/**
 * The type a PromQL expression evaluates to: {@code SCALAR} (a number), {@code VECTOR} (an instant vector: one
 * sample per series), {@code MATRIX} (a range vector: samples over a range per series), {@code STRING}.
 */
public enum ValueType {
    SCALAR("scalar"),
    VECTOR("instant vector"),
    MATRIX("range vector"),
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
