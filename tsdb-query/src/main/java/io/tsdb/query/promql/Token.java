package io.tsdb.query.promql;

/** One token: kind, source text (decoded for strings), position in the input. */
record Token(TokenType type, String text, int pos, int end) {
    @Override
    public String toString() {
        return type == TokenType.EOF ? "end of input" : type == TokenType.STRING ? "string" : "\"" + text + "\"";
    }
}
