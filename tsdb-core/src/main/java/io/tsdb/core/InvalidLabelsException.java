package io.tsdb.core;

/**
 * A label set is malformed: empty, an empty or invalid name (outside {@code [a-zA-Z_][a-zA-Z0-9_]*}),
 * a duplicate name, or a value that is not valid Unicode (an unpaired surrogate). The message names
 * the offending label.
 */
public class InvalidLabelsException extends IllegalArgumentException {
    /** @param message names the offending label */
    public InvalidLabelsException(String message) {
        super(message);
    }
}
