package io.tsdb.query.promql;

import io.tsdb.query.Matcher;
import java.util.List;

/** The PromQL abstract syntax tree. Every node knows its position (0-based offset) in the query text. */
public sealed interface Expr {
    int pos();

    ValueType type();

    /** How an {@code @} modifier pins the evaluation time. */
    enum At { NONE, TIMESTAMP, START, END }

    record NumberLiteral(double value, int pos) implements Expr {
        public ValueType type() { return ValueType.SCALAR; }
    }

    record StringLiteral(String value, int pos) implements Expr {
        public ValueType type() { return ValueType.STRING; }
    }

    /** {@code name{matchers} offset o @ t}; {@code matchers} includes the name matcher. */
    record VectorSelector(String name, List<Matcher> matchers, long offsetMs, At at, long atMs, int pos)
            implements Expr {
        public ValueType type() { return ValueType.VECTOR; }

        VectorSelector withOffset(long o) { return new VectorSelector(name, matchers, o, at, atMs, pos); }

        VectorSelector withAt(At a, long t) { return new VectorSelector(name, matchers, offsetMs, a, t, pos); }
    }

    record MatrixSelector(VectorSelector selector, long rangeMs, int pos) implements Expr {
        public ValueType type() { return ValueType.MATRIX; }
    }

    /** {@code expr[range:step] offset o @ t}; stepMs 0 means the engine's default resolution. */
    record Subquery(Expr expr, long rangeMs, long stepMs, long offsetMs, At at, long atMs, int pos) implements Expr {
        public ValueType type() { return ValueType.MATRIX; }

        Subquery withOffset(long o) { return new Subquery(expr, rangeMs, stepMs, o, at, atMs, pos); }

        Subquery withAt(At a, long t) { return new Subquery(expr, rangeMs, stepMs, offsetMs, a, t, pos); }
    }

    record Call(Functions.Function function, List<Expr> args, int pos) implements Expr {
        public ValueType type() { return function.returnType(); }
    }

    /** An aggregation; {@code param} is null unless the operator takes one. */
    record Aggregate(String op, Expr param, Expr expr, List<String> grouping, boolean without, int pos)
            implements Expr {
        public ValueType type() { return ValueType.VECTOR; }
    }

    enum Card { ONE_TO_ONE, MANY_TO_ONE, ONE_TO_MANY, MANY_TO_MANY }

    /** Vector matching of a binary operation between two vectors. */
    record VectorMatching(Card card, List<String> labels, boolean on, List<String> include) {}

    record Binary(TokenType op, Expr lhs, Expr rhs, boolean returnBool, VectorMatching matching, int pos)
            implements Expr {
        public ValueType type() {
            return lhs.type() == ValueType.SCALAR && rhs.type() == ValueType.SCALAR
                    ? ValueType.SCALAR : ValueType.VECTOR;
        }

        public boolean isComparison() { return Parser.isComparison(op); }

        public boolean isSetOperator() {
            return op == TokenType.LAND || op == TokenType.LOR || op == TokenType.LUNLESS;
        }
    }

    record Unary(boolean negate, Expr expr, int pos) implements Expr {
        public ValueType type() { return expr.type(); }
    }

    record Paren(Expr expr, int pos) implements Expr {
        public ValueType type() { return expr.type(); }
    }
}
