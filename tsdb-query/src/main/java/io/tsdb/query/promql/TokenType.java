package io.tsdb.query.promql;

/** Lexical token kinds of PromQL. */
enum TokenType {
    EOF,
    IDENT,
    METRIC_IDENT,
    NUMBER,
    DURATION,
    STRING,
    LPAREN,
    RPAREN,
    LBRACE,
    RBRACE,
    LBRACKET,
    RBRACKET,
    COMMA,
    COLON,
    AT,
    // operators
    ADD,
    SUB,
    MUL,
    DIV,
    MOD,
    POW,
    EQLC,
    NEQ,
    LSS,
    LTE,
    GTR,
    GTE,
    ASSIGN,
    EQL_REGEX,
    NEQ_REGEX,
    // keyword operators
    LAND,
    LOR,
    LUNLESS,
    ATAN2,
    // keywords
    BY,
    WITHOUT,
    ON,
    IGNORING,
    GROUP_LEFT,
    GROUP_RIGHT,
    BOOL,
    OFFSET,
    // aggregation keyword (text says which)
    AGGREGATOR
}
