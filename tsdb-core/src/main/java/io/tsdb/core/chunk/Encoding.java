package io.tsdb.core.chunk;

/**
 * The value encoding of a {@link Chunk}. Timestamps are always Gorilla delta-of-delta; the encoding
 * names how the values are stored. Persisted as the one-byte {@link #code()} in the chunk header
 * (see {@code docs/chunk-format.md}); codes are never reused, new encodings take new codes.
 */
public enum Encoding {
    /** Gorilla XOR of the raw IEEE-754 bits: bit-exact for every double (NaN payloads, -0.0, ±Inf). */
    XOR(0),
    /**
     * Integer-valued doubles ({@code |v| < 2^53}, not -0.0) stored as a zigzag varint, a zigzag varint delta,
     * then delta-of-delta with the same bucketed prefix codes as timestamps.
     */
    INT_DOD(1);

    private static final Encoding[] BY_CODE = {XOR, INT_DOD};

    private final int code;

    Encoding(int code) {
        this.code = code;
    }

    /** {@return the persisted byte code of this encoding} */
    public int code() {
        return code;
    }

    /**
     * The encoding with the given persisted code.
     *
     * @param code the byte code read from a chunk header
     * @return the encoding
     * @throws IllegalArgumentException "corrupt chunk: unknown encoding code N" for an unknown code
     */
    public static Encoding fromCode(int code) {
        if (code < 0 || code >= BY_CODE.length) {
            throw new IllegalArgumentException("corrupt chunk: unknown encoding code " + code);
        }
        return BY_CODE[code];
    }
}
