package io.tsdb.query.promql;

import io.tsdb.query.Matcher;
import java.util.List;

/** The PromQL abstract syntax tree. Every node knows its position (0-based offset) in the query text. */
public sealed interface Expr {
    /** {@return the node's 0-based character offset in the query text} */
    int pos();

    /** {@return the type the node evaluates to} */
    ValueType type();

    /**
     * How an {@code @} modifier pins the evaluation time: {@code NONE} (no modifier), {@code TIMESTAMP}
     * ({@code @ <timestamp>}), {@code START} ({@code @ start()}), {@code END} ({@code @ end()}).
     */
    enum At {
        NONE,
        TIMESTAMP,
        START,
        END
    }

    /** A number, e.g. {@code 1.5} or a duration used as a number of seconds. */
    record NumberLiteral(double value, int pos) implements Expr {
        public ValueType type() {
            return ValueType.SCALAR;
        }
    }

    /** A string, e.g. {@code "a"}. */
    record StringLiteral(String value, int pos) implements Expr {
        public ValueType type() {
            return ValueType.STRING;
        }
    }

    /** {@code name{matchers} offset o @ t}; {@code matchers} includes the name matcher. */
    record VectorSelector(String name, List<Matcher> matchers, long offsetMs, At at, long atMs, int pos)
            implements Expr {
        public ValueType type() {
            return ValueType.VECTOR;
        }

        VectorSelector withOffset(long o) {
            return new VectorSelector(name, matchers, o, at, atMs, pos);
        }

        VectorSelector withAt(At a, long t) {
            return new VectorSelector(name, matchers, offsetMs, a, t, pos);
        }
    }

    /** {@code selector[range]}; the range in milliseconds. */
    record MatrixSelector(VectorSelector selector, long rangeMs, int pos) implements Expr {
        public ValueType type() {
            return ValueType.MATRIX;
        }
    }

    /** {@code expr[range:step] offset o @ t}; stepMs 0 means the engine's default resolution. */
    record Subquery(Expr expr, long rangeMs, long stepMs, long offsetMs, At at, long atMs, int pos) implements Expr {
        public ValueType type() {
            return ValueType.MATRIX;
        }

        Subquery withOffset(long o) {
            return new Subquery(expr, rangeMs, stepMs, o, at, atMs, pos);
        }

        Subquery withAt(At a, long t) {
            return new Subquery(expr, rangeMs, stepMs, offsetMs, a, t, pos);
        }
    }

    /** A function call. */
    record Call(Functions.Function function, List<Expr> args, int pos) implements Expr {
        public ValueType type() {
            return function.returnType();
        }
    }

    /** An aggregation; {@code param} is null unless the operator takes one. */
    record Aggregate(String op, Expr param, Expr expr, List<String> grouping, boolean without, int pos)
            implements Expr {
        public ValueType type() {
            return ValueType.VECTOR;
        }
    }

    /**
     * The cardinality of a vector match: {@code ONE_TO_ONE} (the default), {@code MANY_TO_ONE}
     * ({@code group_left}), {@code ONE_TO_MANY} ({@code group_right}), {@code MANY_TO_MANY} (set operators
     * {@code and}, {@code or}, {@code unless}).
     */
    enum Card {
        ONE_TO_ONE,
        MANY_TO_ONE,
        ONE_TO_MANY,
        MANY_TO_MANY
    }

    /** Vector matching of a binary operation between two vectors. */
    record VectorMatching(Card card, List<String> labels, boolean on, List<String> include) {}

    /** A binary operation; {@code matching} is null unless both sides are vectors. */
    record Binary(TokenType op, Expr lhs, Expr rhs, boolean returnBool, VectorMatching matching, int pos)
            implements Expr {
        public ValueType type() {
            return lhs.type() == ValueType.SCALAR && rhs.type() == ValueType.SCALAR
                    ? ValueType.SCALAR
                    : ValueType.VECTOR;
        }

        /** {@return whether the operator is a comparison ({@code ==}, {@code !=}, {@code <}, ...)} */
        public boolean isComparison() {
            return Parser.isComparison(op);
        }

        /** {@return whether the operator is {@code and}, {@code or} or {@code unless}} */
        public boolean isSetOperator() {
            return op == TokenType.LAND || op == TokenType.LOR || op == TokenType.LUNLESS;
        }
    }

    /** A unary {@code -} or {@code +}. */
    record Unary(boolean negate, Expr expr, int pos) implements Expr {
        public ValueType type() {
            return expr.type();
        }
    }

    /** A parenthesized expression. */
    record Paren(Expr expr, int pos) implements Expr {
        public ValueType type() {
            return expr.type();
        }
    }
}
