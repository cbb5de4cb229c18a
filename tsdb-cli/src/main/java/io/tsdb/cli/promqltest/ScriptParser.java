package io.tsdb.cli.promqltest;

import io.tsdb.core.Labels;
import io.tsdb.query.Matcher;
import io.tsdb.query.promql.Expr;
import io.tsdb.query.promql.Parser;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/** Parses Prometheus promqltest scripts (load / clear / eval with expect lines) into commands. */
final class ScriptParser {
    private ScriptParser() {}

    /** One value of a series description: a float, an omitted point, or a native histogram. */
    record SeqValue(double value, boolean omitted, boolean histogram) {
        static final SeqValue OMITTED = new SeqValue(0, true, false);
    }

    /** {@code metric{labels} values...}. */
    record SeriesDesc(Labels labels, List<SeqValue> values, boolean hasHistogram) {}

    sealed interface Command permits Load, Clear, Eval {
        int line();
    }

    /** {@code load} ({@code withNhcb}: {@code load_with_nhcb}, which also derives native histograms). */
    record Load(int line, long intervalMs, List<SeriesDesc> series, boolean withNhcb) implements Command {}

    record Clear(int line) implements Command {}

    record Expectation(String kind, String matchType, String text) {}

    record Eval(
            int line,
            String expr,
            boolean range,
            long start,
            long end,
            long step,
            boolean fail,
            boolean ordered,
            List<Expectation> expects,
            List<SeriesDesc> expected,
            Double scalar,
            String string,
            long[] rangeVector,
            boolean expectHistograms)
            implements Command {}

    private static final Pattern INSTANT =
            Pattern.compile("^eval(?:_(fail|warn|ordered|info))?\\s+instant\\s+(?:at\\s+(.+?))?\\s+(.+)$");
    private static final Pattern RANGE = Pattern.compile(
            "^eval(?:_(fail|warn|info))?\\s+range\\s+from\\s+(.+)\\s+to\\s+(.+)\\s+step\\s+(.+?)\\s+(.+)$");
    private static final Pattern LOAD = Pattern.compile("^load(_with_nhcb)?\\s+(\\S+)$");
    private static final Pattern RANGE_VECTOR =
            Pattern.compile("^expect\\s+range\\s+vector\\s+from\\s+(\\S+)\\s+to\\s+(\\S+)\\s+step\\s+(\\S+)$");
    private static final Pattern EXPECT = Pattern.compile("^expect\\s+(\\w+)(?:\\s+(msg|regex)\\s*:\\s?(.*))?$");

    /**
     * A script that cannot be parsed, with the 1-based line at fault. The message starts with {@code line N: }.
     */
    static final class ScriptParseException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final int line;

        ScriptParseException(int line, String message, Throwable cause) {
            super("line " + line + ": " + message, cause);
            this.line = line;
        }

        /** 1-based. */
        int line() {
            return line;
        }
    }

    /**
     * Parses a whole script.
     *
     * @throws ScriptParseException naming the 1-based line at fault, whatever went wrong on it (a bad number in a
     *         series, a bad expected string, ...)
     */
    static List<Command> parse(String text) {
        String[] raw = text.split("\n", -1);
        String[] lines = new String[raw.length];
        for (int i = 0; i < raw.length; i++) {
            String l = raw[i].strip();
            lines[i] = l.startsWith("#") ? "" : l;
        }
        int[] at = {0}; // the 0-based line being read, for errors raised by the helpers
        try {
            return parse(lines, at);
        } catch (ScriptParseException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ScriptParseException(at[0] + 1, String.valueOf(e.getMessage()), e);
        }
    }

    private static List<Command> parse(String[] lines, int[] at) {
        List<Command> out = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            at[0] = i;
            String l = lines[i];
            if (l.isEmpty()) {
                continue;
            }
            String first = l.split("\\s+", 2)[0].toLowerCase(Locale.ROOT);
            if (first.equals("clear")) {
                out.add(new Clear(i + 1));
            } else if (first.equals("load") || first.equals("load_with_nhcb")) {
                var m = LOAD.matcher(l);
                if (!m.matches()) {
                    throw error(i, "invalid load command: " + l);
                }
                long interval = parseDuration(m.group(2), i);
                List<SeriesDesc> series = new ArrayList<>();
                int start = i;
                while (i + 1 < lines.length && !lines[i + 1].isEmpty()) {
                    i++;
                    at[0] = i;
                    series.add(parseSeries(lines[i], i));
                }
                out.add(new Load(start + 1, interval, series, m.group(1) != null));
            } else if (first.startsWith("eval")) {
                i = parseEval(lines, i, out, at);
            } else {
                throw error(i, "invalid command \"" + l + "\"");
            }
        }
        return out;
    }

    /** {@code line} is 0-based; the message names it 1-based. */
    static ScriptParseException error(int line, String msg) {
        return new ScriptParseException(line + 1, msg, null);
    }

    private static int parseEval(String[] lines, int i, List<Command> out, int[] at) {
        String l = lines[i];
        int lineNo = i + 1;
        boolean range;
        String expr;
        long start;
        long end;
        long step = 0;
        String variant;
        var m = INSTANT.matcher(l);
        if (m.matches()) {
            range = false;
            variant = m.group(1);
            start = m.group(2) == null ? 0 : parseDuration(m.group(2), i);
            end = start;
            expr = m.group(3);
        } else {
            m = RANGE.matcher(l);
            if (!m.matches()) {
                throw error(i, "invalid evaluation command: " + l);
            }
            range = true;
            variant = m.group(1);
            start = parseDuration(m.group(2), i);
            end = parseDuration(m.group(3), i);
            step = parseDuration(m.group(4), i);
            expr = m.group(5);
        }
        boolean fail = "fail".equals(variant);
        boolean ordered = "ordered".equals(variant);
        List<Expectation> expects = new ArrayList<>();
        if ("warn".equals(variant) || "info".equals(variant)) {
            expects.add(new Expectation(variant, null, null));
        }
        List<SeriesDesc> expected = new ArrayList<>();
        Double scalar = null;
        String string = null;
        long[] rangeVector = null;
        boolean hist = false;
        while (i + 1 < lines.length && !lines[i + 1].isEmpty()) {
            i++;
            at[0] = i;
            String d = lines[i];
            if (d.startsWith("expected_fail_message")) {
                fail = true;
                expects.add(new Expectation(
                        "fail",
                        "msg",
                        d.substring("expected_fail_message".length()).strip()));
                continue;
            }
            if (d.startsWith("expected_fail_regexp")) {
                fail = true;
                expects.add(new Expectation(
                        "fail",
                        "regex",
                        d.substring("expected_fail_regexp".length()).strip()));
                continue;
            }
            if (d.startsWith("expect ")) {
                var rv = RANGE_VECTOR.matcher(d);
                if (rv.matches()) {
                    rangeVector = new long[] {
                        parseDuration(rv.group(1), i), parseDuration(rv.group(2), i), parseDuration(rv.group(3), i)
                    };
                    continue;
                }
                if (d.startsWith("expect string")) {
                    string = unquote(d.substring("expect string".length()).strip(), i);
                    continue;
                }
                var em = EXPECT.matcher(d);
                if (!em.matches()) {
                    throw error(i, "invalid expect line: " + d);
                }
                String kind = em.group(1);
                String text = em.group(3);
                if (text != null) {
                    text = text.strip();
                    if (text.length() >= 2 && text.startsWith("\"") && text.endsWith("\"")) {
                        text = text.substring(1, text.length() - 1);
                    }
                }
                switch (kind) {
                    case "fail" -> fail = true;
                    case "ordered" -> ordered = true;
                    case "warn", "info", "no_warn", "no_info" -> {}
                    default -> throw error(i, "unknown expect type \"" + kind + "\"");
                }
                if (!kind.equals("ordered")) {
                    expects.add(new Expectation(kind, em.group(2), text));
                }
                continue;
            }
            Double num = tryNumber(d);
            if (num != null && expected.isEmpty()) {
                scalar = num;
                continue;
            }
            SeriesDesc s = parseSeries(d, i);
            hist |= s.hasHistogram();
            if (!range && rangeVector == null && s.values().size() > 1) {
                throw error(i, "expecting multiple values in instant evaluation not allowed");
            }
            expected.add(s);
        }
        out.add(new Eval(
                lineNo,
                expr,
                range,
                start,
                end,
                step,
                fail,
                ordered,
                expects,
                expected,
                scalar,
                string,
                rangeVector,
                hist));
        return i;
    }

    static String unquote(String s, int line) {
        if (s.length() >= 2) {
            char q = s.charAt(0);
            if ((q == '"' || q == '\'' || q == '`') && s.charAt(s.length() - 1) == q) {
                if (q == '`') {
                    return s.substring(1, s.length() - 1);
                }
                Expr e = Parser.parse(s);
                if (e instanceof Expr.StringLiteral sl) {
                    return sl.value();
                }
            }
        }
        throw error(line, "expected a quoted string, got: " + s);
    }

    /** Durations like 50m, 1h30m, 0 or a plain number of seconds. */
    static long parseDuration(String s, int line) {
        String t = s.strip();
        if (t.matches("-?\\d+(\\.\\d+)?")) {
            return Math.round(Double.parseDouble(t) * 1000);
        }
        try {
            long total = 0;
            var m = Pattern.compile("(\\d+)(ms|s|m|h|d|w|y)").matcher(t);
            int pos = 0;
            while (m.find()) {
                if (m.start() != pos) {
                    throw error(line, "bad duration \"" + s + "\"");
                }
                long n = Long.parseLong(m.group(1));
                long unit = switch (m.group(2)) {
                    case "ms" -> 1L;
                    case "s" -> 1000L;
                    case "m" -> 60_000L;
                    case "h" -> 3_600_000L;
                    case "d" -> 86_400_000L;
                    case "w" -> 7 * 86_400_000L;
                    default -> 365 * 86_400_000L;
                };
                total += n * unit;
                pos = m.end();
            }
            if (pos != t.length() || pos == 0) {
                throw error(line, "bad duration \"" + s + "\"");
            }
            return total;
        } catch (NumberFormatException e) {
            throw error(line, "bad duration \"" + s + "\"");
        }
    }

    private static final Pattern NUMBER =
            Pattern.compile("(?i)[+-]?(?:inf|nan|0x[0-9a-f]+|(?:\\d+\\.?\\d*|\\.\\d+)(?:e[+-]?\\d+)?)");

    static Double tryNumber(String s) {
        if (!NUMBER.matcher(s).matches()) {
            return null;
        }
        return parseNumber(s);
    }

    static double parseNumber(String s) {
        String l = s.toLowerCase(Locale.ROOT);
        boolean neg = l.startsWith("-");
        String body = l.startsWith("-") || l.startsWith("+") ? l.substring(1) : l;
        double v;
        if (body.equals("inf")) {
            v = Double.POSITIVE_INFINITY;
        } else if (body.equals("nan")) {
            v = Double.NaN;
        } else if (body.startsWith("0x")) {
            v = Long.parseLong(body.substring(2), 16);
        } else {
            v = Double.parseDouble(body);
        }
        return neg ? -v : v;
    }

    /** Splits a series line into the metric part and the values part. */
    static SeriesDesc parseSeries(String line, int lineIdx) {
        int i = 0;
        int n = line.length();
        // metric name
        while (i < n && !Character.isWhitespace(line.charAt(i)) && line.charAt(i) != '{') {
            i++;
        }
        if (i < n && line.charAt(i) == '{') {
            boolean inQuote = false;
            char q = 0;
            for (; i < n; i++) {
                char c = line.charAt(i);
                if (inQuote) {
                    if (c == '\\') {
                        i++;
                    } else if (c == q) {
                        inQuote = false;
                    }
                } else if (c == '"' || c == '\'' || c == '`') {
                    inQuote = true;
                    q = c;
                } else if (c == '}') {
                    i++;
                    break;
                }
            }
        }
        String metric = line.substring(0, i).strip();
        String rest = line.substring(i).strip();
        Labels labels = parseLabels(metric, lineIdx);
        List<SeqValue> values = new ArrayList<>();
        boolean hist = false;
        int p = 0;
        while (p < rest.length()) {
            char c = rest.charAt(p);
            if (Character.isWhitespace(c)) {
                p++;
                continue;
            }
            int s = p;
            if (rest.startsWith("{{", p)) {
                // histogram item: {{...}}[+{{...}}][xN]
                hist = true;
                p = skipHistogram(rest, p, lineIdx);
                if (rest.startsWith("+{{", p) || rest.startsWith("-{{", p)) {
                    p = skipHistogram(rest, p + 1, lineIdx);
                }
                int count = 1;
                if (p < rest.length() && rest.charAt(p) == 'x') {
                    int ds = ++p;
                    while (p < rest.length() && Character.isDigit(rest.charAt(p))) {
                        p++;
                    }
                    count = Integer.parseInt(rest.substring(ds, p)) + 1;
                }
                for (int k = 0; k < count; k++) {
                    values.add(new SeqValue(0, false, true));
                }
                continue;
            }
            while (p < rest.length() && !Character.isWhitespace(rest.charAt(p))) {
                p++;
            }
            expandItem(rest.substring(s, p), values, lineIdx);
        }
        return new SeriesDesc(labels, values, hist);
    }

    private static int skipHistogram(String s, int p, int lineIdx) {
        int end = s.indexOf("}}", p);
        if (end < 0) {
            throw error(lineIdx, "unterminated native histogram in: " + s);
        }
        return end + 2;
    }

    private static final Pattern ITEM = Pattern.compile("(?i)([+-]?(?:inf|nan|(?:\\d+\\.?\\d*|\\.\\d+)(?:e[+-]?\\d+)?))"
            + "(?:([+-](?:inf|nan|(?:\\d+\\.?\\d*|\\.\\d+)(?:e[+-]?\\d+)?)))?(?:x(\\d+))?");

    static void expandItem(String item, List<SeqValue> out, int lineIdx) {
        if (item.equals("_")) {
            out.add(SeqValue.OMITTED);
            return;
        }
        if (item.startsWith("_x")) {
            int k = Integer.parseInt(item.substring(2));
            for (int j = 0; j < k; j++) {
                out.add(SeqValue.OMITTED);
            }
            return;
        }
        if (item.equalsIgnoreCase("stale")) {
            out.add(new SeqValue(io.tsdb.core.Sample.STALE_NAN, false, false));
            return;
        }
        var m = ITEM.matcher(item);
        if (!m.matches()) {
            throw error(lineIdx, "invalid series value \"" + item + "\"");
        }
        double v = parseNumber(m.group(1));
        if (m.group(3) == null) {
            if (m.group(2) != null) {
                throw error(lineIdx, "invalid series value \"" + item + "\": increment without repetition count");
            }
            out.add(new SeqValue(v, false, false));
            return;
        }
        int times = Integer.parseInt(m.group(3));
        double inc = m.group(2) == null ? 0 : parseNumber(m.group(2));
        for (int j = 0; j <= times; j++) {
            out.add(new SeqValue(v, false, false));
            v += inc;
        }
    }

    static Labels parseLabels(String metric, int lineIdx) {
        String m = metric.strip();
        if (m.equals("{}")) {
            return Labels.empty();
        }
        Expr.VectorSelector vs;
        try {
            vs = Parser.parseSelector(m);
        } catch (IllegalArgumentException e) {
            throw error(lineIdx, "invalid series description \"" + metric + "\": " + e.getMessage());
        }
        Map<String, String> map = new LinkedHashMap<>();
        for (Matcher x : vs.matchers()) {
            if (x.type() != Matcher.Type.EQUAL) {
                throw error(lineIdx, "series description \"" + metric + "\" may only use '=' matchers");
            }
            map.put(x.name(), x.value());
        }
        return Labels.of(map);
    }
}
