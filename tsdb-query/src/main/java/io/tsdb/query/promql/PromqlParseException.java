package io.tsdb.query.promql;

/** A PromQL syntax or type error, with the position (0-based offset and 1-based line:column) where it was found. */
public final class PromqlParseException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    /** 0-based character offset. */
    private final int position;
    /** 1-based line. */
    private final int line;
    /** 1-based column. */
    private final int column;
    /** The message without the position. */
    private final String detail;

    /**
     * @param input    the query text (for line and column)
     * @param position 0-based character offset of the error in {@code input}
     * @param detail   what is wrong
     */
    public PromqlParseException(String input, int position, String detail) {
        super(format(input, position, detail));
        this.position = position;
        int[] lc = lineCol(input, position);
        this.line = lc[0];
        this.column = lc[1];
        this.detail = detail;
    }

    static int[] lineCol(String input, int position) {
        int line = 1;
        int col = 1;
        for (int i = 0; i < Math.min(position, input.length()); i++) {
            if (input.charAt(i) == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return new int[] {line, col};
    }

    private static String format(String input, int position, String detail) {
        int[] lc = lineCol(input, position);
        return "parse error at " + lc[0] + ":" + lc[1] + ": " + detail;
    }

    /** {@return the 0-based character offset in the query} */
    public int position() {
        return position;
    }

    /** {@return the 1-based line of the error} */
    public int line() {
        return line;
    }

    /** {@return the 1-based column of the error} */
    public int column() {
        return column;
    }

    /** {@return the message without the position prefix} */
    public String detail() {
        return detail;
    }
}
