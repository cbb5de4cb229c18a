package io.tsdb.query.promql;

import io.tsdb.query.Matcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Recursive-descent PromQL parser with Prometheus's operator precedence and type checks. */
public final class Parser {
    private final String input;
    private final List<Token> tokens;
    private int i;

    private Parser(String input) {
        this.input = input;
        this.tokens = Lexer.lex(input);
    }

    /**
     * Parses and type-checks a PromQL expression. Stateless; safe from any thread.
     *
     * @param input the expression
     * @return its syntax tree
     * @throws PromqlParseException  on a syntax or type error, with its position
     * @throws NumberFormatException if a duration literal does not fit in a {@code long} (not turned into a
     *                               {@code PromqlParseException})
     */
    public static Expr parse(String input) {
        Parser p = new Parser(input);
        if (p.peek().type() == TokenType.EOF) {
            throw new PromqlParseException(input, 0, "no expression found in input");
        }
        Expr e = p.parseExpr(1);
        if (p.peek().type() != TokenType.EOF) {
            Token t = p.peek();
            throw new PromqlParseException(
                    input, t.pos(), "unexpected " + t + ", expected an operator or end of input");
        }
        return e;
    }

    /**
     * Parses a series selector such as {@code metric{a="b"}} (no offset, range or operators).
     *
     * @param input the selector
     * @return the selector's syntax tree
     * @throws PromqlParseException on a syntax error or anything after the selector
     */
    public static Expr.VectorSelector parseSelector(String input) {
        Parser p = new Parser(input);
        Token t = p.peek();
        Expr e;
        if (t.type() == TokenType.LBRACE) {
            e = p.parseSelectorBody(null, t.pos());
        } else if (t.type() == TokenType.EOF) {
            throw new PromqlParseException(input, 0, "no series selector found in input");
        } else {
            p.i++;
            String name = t.text();
            if (p.peek().type() == TokenType.LBRACE) {
                e = p.parseSelectorBody(name, t.pos());
            } else {
                e = p.selector(name, new ArrayList<>(), t.pos());
            }
        }
        if (p.peek().type() != TokenType.EOF) {
            throw new PromqlParseException(input, p.peek().pos(), "unexpected " + p.peek() + " after series selector");
        }
        return (Expr.VectorSelector) e;
    }

    private Token peek() {
        return tokens.get(i);
    }

    private Token peek(int ahead) {
        return tokens.get(Math.min(i + ahead, tokens.size() - 1));
    }

    private Token next() {
        return tokens.get(i++);
    }

    private PromqlParseException err(int pos, String msg) {
        return new PromqlParseException(input, pos, msg);
    }

    private Token expect(TokenType type, String what, String context) {
        Token t = peek();
        if (t.type() != type) {
            throw err(t.pos(), "unexpected " + t + " in " + context + ", expected " + what);
        }
        return next();
    }

    static int precedence(TokenType t) {
        return switch (t) {
            case LOR -> 1;
            case LAND, LUNLESS -> 2;
            case EQLC, NEQ, LTE, LSS, GTE, GTR -> 3;
            case ADD, SUB -> 4;
            case MUL, DIV, MOD, ATAN2 -> 5;
            case POW -> 6;
            default -> 0;
        };
    }

    static boolean isComparison(TokenType t) {
        return t == TokenType.EQLC
                || t == TokenType.NEQ
                || t == TokenType.LTE
                || t == TokenType.LSS
                || t == TokenType.GTE
                || t == TokenType.GTR;
    }

    static String opText(TokenType t) {
        return switch (t) {
            case LOR -> "or";
            case LAND -> "and";
            case LUNLESS -> "unless";
            case ATAN2 -> "atan2";
            case EQLC -> "==";
            case NEQ -> "!=";
            case LTE -> "<=";
            case LSS -> "<";
            case GTE -> ">=";
            case GTR -> ">";
            case ADD -> "+";
            case SUB -> "-";
            case MUL -> "*";
            case DIV -> "/";
            case MOD -> "%";
            case POW -> "^";
            default -> t.name();
        };
    }

    /**
     * Deepest expression tree the parser builds: each level of nesting (parentheses, calls,
     * aggregations, unary operators) and each binary operator of a chain adds one. Parsing and
     * evaluation recurse once per level, so deeper input would end in a StackOverflowError (in the
     * parser, or in the evaluator for a long chain such as {@code 1 + 1 + ... + 1}) instead of a
     * parse error. Real queries stay far below it. Measured on a 1 MiB thread stack (JDK 17): the
     * evaluator overflowed at about 980 levels of nested subqueries, the parser at about 1,200
     * levels of parentheses; 256 keeps a margin of almost 4.
     */
    static final int MAX_DEPTH = 256;

    private int depth;

    private void deeper(int pos) {
        if (++depth > MAX_DEPTH) {
            throw err(pos, "expression nested too deeply (more than " + MAX_DEPTH + " levels)");
        }
    }

    private Expr parseExpr(int minPrec) {
        int saved = depth;
        deeper(peek().pos());
        try {
            return parseBinary(minPrec);
        } finally {
            depth = saved;
        }
    }

    private Expr parseBinary(int minPrec) {
        Expr lhs = parseUnary();
        while (true) {
            Token opTok = peek();
            int prec = precedence(opTok.type());
            if (prec == 0 || prec < minPrec) {
                return lhs;
            }
            next();
            deeper(opTok.pos()); // the tree grows one level per operator of a chain
            TokenType op = opTok.type();
            boolean returnBool = false;
            if (peek().type() == TokenType.BOOL) {
                Token b = next();
                if (!isComparison(op)) {
                    throw err(b.pos(), "bool modifier can only be used on comparison operators");
                }
                returnBool = true;
            }
            Expr.VectorMatching matching = null;
            boolean isSet = op == TokenType.LAND || op == TokenType.LOR || op == TokenType.LUNLESS;
            List<String> labels = List.of();
            boolean on = false;
            boolean explicitMatching = false;
            Expr.Card card = isSet ? Expr.Card.MANY_TO_MANY : Expr.Card.ONE_TO_ONE;
            List<String> include = List.of();
            if (peek().type() == TokenType.ON || peek().type() == TokenType.IGNORING) {
                on = next().type() == TokenType.ON;
                labels = parseLabelList("vector matching");
                explicitMatching = true;
                if (peek().type() == TokenType.GROUP_LEFT || peek().type() == TokenType.GROUP_RIGHT) {
                    Token g = next();
                    if (isSet) {
                        throw err(g.pos(), "no grouping allowed for \"" + opText(op) + "\" operation");
                    }
                    card = g.type() == TokenType.GROUP_LEFT ? Expr.Card.MANY_TO_ONE : Expr.Card.ONE_TO_MANY;
                    if (peek().type() == TokenType.LPAREN) {
                        include = parseLabelList("grouping");
                    }
                    for (String l : include) {
                        if (on && labels.contains(l)) {
                            throw err(g.pos(), "label \"" + l + "\" must not occur in ON and GROUP clause at once");
                        }
                    }
                }
            } else if (peek().type() == TokenType.GROUP_LEFT || peek().type() == TokenType.GROUP_RIGHT) {
                throw err(peek().pos(), "unexpected " + peek() + ", expected \"on\" or \"ignoring\" before it");
            }
            Expr rhs = parseExpr(op == TokenType.POW ? prec : prec + 1);
            matching = new Expr.VectorMatching(card, labels, on, include);
            lhs = makeBinary(op, opTok.pos(), lhs, rhs, returnBool, matching, explicitMatching);
        }
    }

    private Expr makeBinary(
            TokenType op,
            int pos,
            Expr lhs,
            Expr rhs,
            boolean returnBool,
            Expr.VectorMatching matching,
            boolean explicitMatching) {
        ValueType lt = lhs.type();
        ValueType rt = rhs.type();
        String o = opText(op);
        if ((lt != ValueType.SCALAR && lt != ValueType.VECTOR) || (rt != ValueType.SCALAR && rt != ValueType.VECTOR)) {
            throw err(pos, "binary expression must contain only scalar and instant vector types");
        }
        boolean isSet = op == TokenType.LAND || op == TokenType.LOR || op == TokenType.LUNLESS;
        if (isComparison(op) && !returnBool && lt == ValueType.SCALAR && rt == ValueType.SCALAR) {
            throw err(pos, "comparisons between scalars must use BOOL modifier");
        }
        if (isSet && (lt == ValueType.SCALAR || rt == ValueType.SCALAR)) {
            throw err(pos, "set operator \"" + o + "\" not allowed in binary scalar expression");
        }
        if (explicitMatching && (lt != ValueType.VECTOR || rt != ValueType.VECTOR)) {
            throw err(pos, "vector matching only allowed between instant vectors");
        }
        return new Expr.Binary(
                op, lhs, rhs, returnBool, lt == ValueType.VECTOR && rt == ValueType.VECTOR ? matching : null, pos);
    }

    private Expr parseUnary() {
        Token t = peek();
        if (t.type() == TokenType.ADD || t.type() == TokenType.SUB) {
            next();
            Expr e = parseExpr(precedence(TokenType.POW));
            if (e.type() != ValueType.SCALAR && e.type() != ValueType.VECTOR) {
                throw err(
                        t.pos(),
                        "unary expression only allowed on expressions of type scalar or instant vector, got "
                                + e.type());
            }
            if (t.type() == TokenType.ADD) {
                return e;
            }
            if (e instanceof Expr.NumberLiteral n) {
                return new Expr.NumberLiteral(-n.value(), t.pos());
            }
            return new Expr.Unary(true, e, t.pos());
        }
        return parsePostfix(parsePrimary());
    }

    private Expr parsePostfix(Expr e) {
        while (true) {
            Token t = peek();
            if (t.type() == TokenType.LBRACKET) {
                e = parseRangeOrSubquery(e);
            } else if (t.type() == TokenType.OFFSET) {
                next();
                boolean neg = false;
                if (peek().type() == TokenType.SUB || peek().type() == TokenType.ADD) {
                    neg = next().type() == TokenType.SUB;
                }
                long d = parseDurationToken("offset");
                if (neg) {
                    d = -d;
                }
                e = applyOffset(e, d, t.pos());
            } else if (t.type() == TokenType.AT) {
                next();
                e = parseAt(e, t.pos());
            } else {
                return e;
            }
        }
    }

    private long parseDurationToken(String context) {
        Token t = peek();
        if (t.type() == TokenType.DURATION) {
            next();
            return Lexer.parseDuration(t.text());
        }
        if (t.type() == TokenType.NUMBER) {
            next();
            double secs = Lexer.parseNumber(t.text());
            if (Double.isNaN(secs) || Double.isInfinite(secs)) {
                throw err(t.pos(), "invalid duration " + t.text() + " in " + context);
            }
            return Math.round(secs * 1000);
        }
        throw err(t.pos(), "unexpected " + t + " in " + context + ", expected duration");
    }

    private Expr applyOffset(Expr e, long d, int pos) {
        if (e instanceof Expr.VectorSelector vs) {
            if (vs.offsetMs() != 0) {
                throw err(pos, "offset may not be set multiple times");
            }
            return vs.withOffset(d);
        }
        if (e instanceof Expr.MatrixSelector ms) {
            if (ms.selector().offsetMs() != 0) {
                throw err(pos, "offset may not be set multiple times");
            }
            return new Expr.MatrixSelector(ms.selector().withOffset(d), ms.rangeMs(), ms.pos());
        }
        if (e instanceof Expr.Subquery sq) {
            if (sq.offsetMs() != 0) {
                throw err(pos, "offset may not be set multiple times");
            }
            return sq.withOffset(d);
        }
        throw err(
                pos,
                "offset modifier must be preceded by an instant vector selector or range vector selector or a "
                        + "subquery");
    }

    private Expr parseAt(Expr e, int pos) {
        Token t = peek();
        Expr.At at;
        long ms = 0;
        if (t.type() == TokenType.IDENT && (t.text().equals("start") || t.text().equals("end"))) {
            next();
            expect(TokenType.LPAREN, "\"(\"", "@ modifier");
            expect(TokenType.RPAREN, "\")\"", "@ modifier");
            at = t.text().equals("start") ? Expr.At.START : Expr.At.END;
        } else {
            boolean neg = false;
            if (peek().type() == TokenType.SUB || peek().type() == TokenType.ADD) {
                neg = next().type() == TokenType.SUB;
            }
            Token n = peek();
            double secs;
            if (n.type() == TokenType.NUMBER) {
                secs = Lexer.parseNumber(n.text());
            } else if (n.type() == TokenType.DURATION) {
                secs = Lexer.parseDuration(n.text()) / 1000.0;
            } else {
                throw err(n.pos(), "unexpected " + n + " in @, expected timestamp");
            }
            next();
            if (neg) {
                secs = -secs;
            }
            if (Double.isNaN(secs) || Double.isInfinite(secs)) {
                throw err(n.pos(), "timestamp out of bounds for @ modifier: " + secs);
            }
            at = Expr.At.TIMESTAMP;
            ms = Math.round(secs * 1000);
        }
        if (e instanceof Expr.VectorSelector vs) {
            if (vs.at() != Expr.At.NONE) {
                throw err(pos, "@ <timestamp> may not be set multiple times");
            }
            return vs.withAt(at, ms);
        }
        if (e instanceof Expr.MatrixSelector m) {
            if (m.selector().at() != Expr.At.NONE) {
                throw err(pos, "@ <timestamp> may not be set multiple times");
            }
            return new Expr.MatrixSelector(m.selector().withAt(at, ms), m.rangeMs(), m.pos());
        }
        if (e instanceof Expr.Subquery sq) {
            if (sq.at() != Expr.At.NONE) {
                throw err(pos, "@ <timestamp> may not be set multiple times");
            }
            return sq.withAt(at, ms);
        }
        throw err(
                pos,
                "@ modifier must be preceded by an instant vector selector or range vector selector or a "
                        + "subquery");
    }

    private Expr parseRangeOrSubquery(Expr e) {
        Token lb = next();
        long range = parseDurationToken("range");
        if (range <= 0) {
            throw err(lb.pos() + 1, "duration must be greater than 0");
        }
        if (peek().type() == TokenType.COLON) {
            next();
            long step = 0;
            if (peek().type() != TokenType.RBRACKET) {
                step = parseDurationToken("subquery step");
                if (step <= 0) {
                    throw err(lb.pos(), "duration must be greater than 0");
                }
            }
            expect(TokenType.RBRACKET, "\"]\"", "subquery selector");
            if (e.type() != ValueType.VECTOR) {
                throw err(e.pos(), "subquery is only allowed on instant vector, got " + e.type() + " instead");
            }
            return new Expr.Subquery(e, range, step, 0, Expr.At.NONE, 0, e.pos());
        }
        expect(TokenType.RBRACKET, "\"]\" or \":\"", "range selector");
        if (!(e instanceof Expr.VectorSelector vs)) {
            throw err(lb.pos(), "ranges only allowed for vector selectors");
        }
        if (vs.offsetMs() != 0 || vs.at() != Expr.At.NONE) {
            throw err(lb.pos(), "no offset or @ modifiers allowed before range");
        }
        return new Expr.MatrixSelector(vs, range, vs.pos());
    }

    private Expr parsePrimary() {
        Token t = peek();
        switch (t.type()) {
            case NUMBER: {
                next();
                try {
                    return new Expr.NumberLiteral(Lexer.parseNumber(t.text()), t.pos());
                } catch (NumberFormatException ex) {
                    throw err(t.pos(), "bad number \"" + t.text() + "\"");
                }
            }
            case DURATION:
                next();
                return new Expr.NumberLiteral(Lexer.parseDuration(t.text()) / 1000.0, t.pos());
            case STRING:
                next();
                return new Expr.StringLiteral(t.text(), t.pos());
            case LPAREN: {
                next();
                Expr inner = parseExpr(1);
                expect(TokenType.RPAREN, "\")\"", "parenthesized expression");
                return new Expr.Paren(inner, t.pos());
            }
            case LBRACE:
                return parseSelectorBody(null, t.pos());
            case AGGREGATOR:
                return parseAggregate();
            case IDENT:
            case METRIC_IDENT: {
                next();
                if (peek().type() == TokenType.LPAREN && t.type() == TokenType.IDENT) {
                    return parseCall(t);
                }
                if (peek().type() == TokenType.LBRACE) {
                    return parseSelectorBody(t.text(), t.pos());
                }
                return selector(t.text(), new ArrayList<>(), t.pos());
            }
            case EOF:
                throw err(t.pos(), "unexpected end of input, expected an expression");
            default:
                throw err(t.pos(), "unexpected " + t + ", expected an expression");
        }
    }

    private Expr parseCall(Token name) {
        Functions.Function f = Functions.get(name.text());
        if (f == null) {
            throw err(name.pos(), "unknown function with name \"" + name.text() + "\"");
        }
        next(); // (
        List<Expr> args = parseArgs();
        expect(TokenType.RPAREN, "\",\" or \")\"", "function call");
        if (args.size() < f.minArgs() || args.size() > f.maxArgs()) {
            String expected = f.minArgs() == f.maxArgs()
                    ? String.valueOf(f.minArgs())
                    : f.maxArgs() == Integer.MAX_VALUE ? "at least " + f.minArgs() : f.minArgs() + " to " + f.maxArgs();
            throw err(
                    name.pos(),
                    "expected " + expected + " argument(s) in call to \"" + f.name() + "\", got " + args.size());
        }
        for (int k = 0; k < args.size(); k++) {
            ValueType want = f.argType(k);
            ValueType got = args.get(k).type();
            if (want != got) {
                throw err(
                        args.get(k).pos(),
                        "expected type " + want + " in call to function \"" + f.name() + "\", got " + got);
            }
        }
        return new Expr.Call(f, args, name.pos());
    }

    /** Comma-separated expressions up to (not including) the closing parenthesis; a trailing comma is allowed. */
    private List<Expr> parseArgs() {
        List<Expr> args = new ArrayList<>();
        while (peek().type() != TokenType.RPAREN) {
            args.add(parseExpr(1));
            if (peek().type() != TokenType.COMMA) {
                break;
            }
            next();
        }
        return args;
    }

    private Expr parseAggregate() {
        Token opTok = next();
        String op = opTok.text().toLowerCase(Locale.ROOT);
        List<String> grouping = null;
        boolean without = false;
        if (peek().type() == TokenType.BY || peek().type() == TokenType.WITHOUT) {
            without = next().type() == TokenType.WITHOUT;
            grouping = parseLabelList("grouping");
        }
        expect(TokenType.LPAREN, "\"(\"", "aggregation");
        List<Expr> args = parseArgs();
        expect(TokenType.RPAREN, "\",\" or \")\"", "aggregation");
        if (peek().type() == TokenType.BY || peek().type() == TokenType.WITHOUT) {
            if (grouping != null) {
                throw err(peek().pos(), "aggregation must only contain one grouping clause");
            }
            without = next().type() == TokenType.WITHOUT;
            grouping = parseLabelList("grouping");
            if (peek().type() == TokenType.BY || peek().type() == TokenType.WITHOUT) {
                throw err(peek().pos(), "aggregation must only contain one grouping clause");
            }
        }
        boolean hasParam = op.equals("topk")
                || op.equals("bottomk")
                || op.equals("quantile")
                || op.equals("count_values")
                || op.equals("limitk")
                || op.equals("limit_ratio");
        int want = hasParam ? 2 : 1;
        if (args.size() != want) {
            throw err(
                    opTok.pos(),
                    "wrong number of arguments for aggregate expression provided, expected " + want + ", got "
                            + args.size());
        }
        Expr param = hasParam ? args.get(0) : null;
        Expr expr = args.get(want - 1);
        if (expr.type() != ValueType.VECTOR) {
            throw err(expr.pos(), "expected type instant vector in aggregation expression, got " + expr.type());
        }
        if (param != null) {
            ValueType pt = op.equals("count_values") ? ValueType.STRING : ValueType.SCALAR;
            if (param.type() != pt) {
                throw err(param.pos(), "expected type " + pt + " in aggregation parameter, got " + param.type());
            }
        }
        return new Expr.Aggregate(op, param, expr, grouping == null ? List.of() : grouping, without, opTok.pos());
    }

    private boolean isLabelNameToken(Token t) {
        return t.type() == TokenType.IDENT
                || t.type() == TokenType.AGGREGATOR
                || (t.type().ordinal() >= TokenType.LAND.ordinal() && t.type().ordinal() <= TokenType.OFFSET.ordinal())
                || (t.type() == TokenType.NUMBER && Lexer.isIdentStart(t.text().charAt(0)));
    }

    private List<String> parseLabelList(String context) {
        expect(TokenType.LPAREN, "\"(\"", context + " label list");
        List<String> out = new ArrayList<>();
        while (peek().type() != TokenType.RPAREN) {
            Token t = peek();
            if (isLabelNameToken(t) || t.type() == TokenType.STRING) {
                next();
                out.add(t.text());
            } else {
                throw err(t.pos(), "unexpected " + t + " in " + context + ", expected label");
            }
            if (peek().type() == TokenType.COMMA) {
                next();
            } else if (peek().type() != TokenType.RPAREN) {
                throw err(peek().pos(), "unexpected " + peek() + " in " + context + ", expected \",\" or \")\"");
            }
        }
        next();
        return out;
    }

    private Expr parseSelectorBody(String name, int pos) {
        expect(TokenType.LBRACE, "\"{\"", "vector selector");
        List<Matcher> matchers = new ArrayList<>();
        while (peek().type() != TokenType.RBRACE) {
            Token l = peek();
            if (!isLabelNameToken(l) && l.type() != TokenType.STRING) {
                throw err(l.pos(), "unexpected " + l + " in label matching, expected label name or \"}\"");
            }
            next();
            Token op = peek();
            if (l.type() == TokenType.STRING && (op.type() == TokenType.COMMA || op.type() == TokenType.RBRACE)) {
                // a quoted metric name: {"metric.name"}
                if (name != null) {
                    throw err(l.pos(), "metric name must not be set twice: \"" + name + "\" or \"" + l.text() + "\"");
                }
                name = l.text();
            } else {
                Matcher.Type type = switch (op.type()) {
                    case ASSIGN -> Matcher.Type.EQUAL;
                    case NEQ -> Matcher.Type.NOT_EQUAL;
                    case EQL_REGEX -> Matcher.Type.REGEX;
                    case NEQ_REGEX -> Matcher.Type.NOT_REGEX;
                    default ->
                        throw err(
                                op.pos(),
                                "unexpected " + op + " in label matching, expected one of \"=\", "
                                        + "\"!=\", \"=~\" or \"!~\"");
                };
                next();
                Token v = peek();
                if (v.type() != TokenType.STRING) {
                    throw err(v.pos(), "unexpected " + v + " in label matching, expected string");
                }
                next();
                try {
                    matchers.add(Matcher.of(type, l.text(), v.text()));
                } catch (IllegalArgumentException ex) {
                    throw err(v.pos(), ex.getMessage());
                }
            }
            if (peek().type() == TokenType.COMMA) {
                next();
            } else if (peek().type() != TokenType.RBRACE) {
                throw err(peek().pos(), "unexpected " + peek() + " in label matching, expected \",\" or \"}\"");
            }
        }
        next();
        return selector(name, matchers, pos);
    }

    private Expr selector(String name, List<Matcher> matchers, int pos) {
        if (name != null) {
            for (Matcher m : matchers) {
                if (m.name().equals("__name__")) {
                    throw err(pos, "metric name must not be set twice: \"" + name + "\" or \"" + m.value() + "\"");
                }
            }
            matchers.add(0, Matcher.equal("__name__", name));
        }
        boolean ok = false;
        for (Matcher m : matchers) {
            if (!m.matchesEmpty()) {
                ok = true;
                break;
            }
        }
        if (!ok) {
            throw err(pos, "vector selector must contain at least one non-empty matcher");
        }
        return new Expr.VectorSelector(name, List.copyOf(matchers), 0, Expr.At.NONE, 0, pos);
    }
}
