package io.tsdb.query;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A label matcher with Prometheus semantics: {@code =}, {@code !=}, {@code =~}, {@code !~}. Regexes are fully
 * anchored ({@code ^(?:re)$}, with {@code .} matching newlines as in Prometheus). A missing label is matched as the
 * empty string. Immutable and thread-safe.
 */
public final class Matcher {
    /**
     * The four matcher kinds: {@code EQUAL} ({@code =}, the value equals), {@code NOT_EQUAL} ({@code !=}),
     * {@code REGEX} ({@code =~}, the value matches the anchored regex) and {@code NOT_REGEX} ({@code !~}).
     */
    public enum Type {
        EQUAL("="),
        NOT_EQUAL("!="),
        REGEX("=~"),
        NOT_REGEX("!~");

        private final String symbol;

        Type(String symbol) {
            this.symbol = symbol;
        }

        /** {@return the PromQL operator, e.g. {@code =~}} */
        public String symbol() {
            return symbol;
        }
    }

    private final Type type;
    private final String name;
    private final String value;
    private final Pattern pattern;
    /** For regexes that are an alternation of plain literals ({@code a|b|c}): those literals; else null. */
    private final List<String> literalSet;
    /** For regexes that start with a literal: that prefix ("" when none). */
    private final String literalPrefix;

    private Matcher(Type type, String name, String value) {
        this.type = Objects.requireNonNull(type, "type");
        this.name = Objects.requireNonNull(name, "name");
        this.value = Objects.requireNonNull(value, "value");
        if (type == Type.REGEX || type == Type.NOT_REGEX) {
            try {
                this.pattern = anchoredPattern(value);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "invalid regular expression \"" + value + "\" in matcher for label \"" + name + "\": "
                                + e.getMessage().split("\n")[0],
                        e);
            }
            this.literalSet = RegexTranslator.literalAlternatives(value);
            this.literalPrefix = literalSet != null ? "" : RegexTranslator.literalPrefix(value);
        } else {
            this.pattern = null;
            this.literalSet = null;
            this.literalPrefix = "";
        }
    }

    /**
     * A PromQL regex (RE2 syntax: {@code (?P<name>...)}, POSIX classes) as a fully anchored Java pattern in which
     * {@code .} matches newlines, the way matchers and {@code label_replace} use it.
     *
     * @param re the PromQL regex
     * @return the compiled, anchored pattern
     * @throws java.util.regex.PatternSyntaxException if it is not a valid regex
     */
    public static Pattern anchoredPattern(String re) {
        return Pattern.compile("^(?:" + RegexTranslator.toJava(re) + ")$", Pattern.DOTALL);
    }

    /**
     * A matcher of any type.
     *
     * @param type  the kind
     * @param name  the label name
     * @param value the value to compare with (a regex for {@code REGEX}, {@code NOT_REGEX})
     * @return the matcher
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if {@code type} is a regex type and {@code value} is not a valid regular
     *                                  expression (RE2 syntax, as in Prometheus)
     */
    public static Matcher of(Type type, String name, String value) {
        return new Matcher(type, name, value);
    }

    /**
     * {@code name="value"}.
     *
     * @param name  the label name
     * @param value the value to compare with
     * @return the matcher
     * @throws NullPointerException     if an argument is null
     */
    public static Matcher equal(String name, String value) {
        return new Matcher(Type.EQUAL, name, value);
    }

    /**
     * {@code name!="value"}.
     *
     * @param name  the label name
     * @param value the value to compare with
     * @return the matcher
     * @throws NullPointerException     if an argument is null
     */
    public static Matcher notEqual(String name, String value) {
        return new Matcher(Type.NOT_EQUAL, name, value);
    }

    /**
     * {@code name=~"value"}, fully anchored.
     *
     * @param name  the label name
     * @param value the value to compare with (a regex)
     * @return the matcher
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if {@code value} is not a valid regular expression (RE2 syntax, as
     *                                  in Prometheus)
     */
    public static Matcher regex(String name, String value) {
        return new Matcher(Type.REGEX, name, value);
    }

    /**
     * {@code name!~"value"}, fully anchored.
     *
     * @param name  the label name
     * @param value the value to compare with (a regex)
     * @return the matcher
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if {@code value} is not a valid regular expression (RE2 syntax, as
     *                                  in Prometheus)
     */
    public static Matcher notRegex(String name, String value) {
        return new Matcher(Type.NOT_REGEX, name, value);
    }

    /** {@return the kind} */
    public Type type() {
        return type;
    }

    /** {@return the label name} */
    public String name() {
        return name;
    }

    /** {@return the value or regex as given} */
    public String value() {
        return value;
    }

    /**
     * Whether the value (null for a missing label, treated as "") matches.
     *
     * @param v a label value, or null
     * @return true if it matches
     */
    public boolean matches(String v) {
        String s = v == null ? "" : v;
        return switch (type) {
            case EQUAL -> s.equals(value);
            case NOT_EQUAL -> !s.equals(value);
            case REGEX -> regexMatches(s);
            case NOT_REGEX -> !regexMatches(s);
        };
    }

    private boolean regexMatches(String s) {
        if (literalSet != null) {
            return literalSet.contains(s);
        }
        if (!s.startsWith(literalPrefix)) {
            return false;
        }
        return pattern.matcher(s).matches();
    }

    /** {@return whether a series without this label is selected} */
    public boolean matchesEmpty() {
        return matches("");
    }

    /** {@return the regex alternatives when the regex is a set of literals (a new list), else null} */
    public List<String> literalSet() {
        return literalSet == null ? null : new ArrayList<>(literalSet);
    }

    /** {@return the literal prefix every match of the regex starts with ("" if none or not a regex)} */
    public String literalPrefix() {
        return literalPrefix;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Matcher m && m.type == type && m.name.equals(name) && m.value.equals(value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, name, value);
    }

    @Override
    public String toString() {
        return name + type.symbol + quote(value);
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                default -> sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
