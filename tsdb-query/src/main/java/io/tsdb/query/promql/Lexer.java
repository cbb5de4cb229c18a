package io.tsdb.query.promql;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Splits a PromQL query into tokens. */
final class Lexer {
    private static final Map<String, TokenType> KEYWORDS = Map.ofEntries(
            Map.entry("and", TokenType.LAND), Map.entry("or", TokenType.LOR),
            Map.entry("unless", TokenType.LUNLESS), Map.entry("atan2", TokenType.ATAN2),
            Map.entry("by", TokenType.BY), Map.entry("without", TokenType.WITHOUT),
            Map.entry("on", TokenType.ON), Map.entry("ignoring", TokenType.IGNORING),
            Map.entry("group_left", TokenType.GROUP_LEFT), Map.entry("group_right", TokenType.GROUP_RIGHT),
            Map.entry("bool", TokenType.BOOL), Map.entry("offset", TokenType.OFFSET));

    static final java.util.Set<String> AGGREGATORS = java.util.Set.of(
            "sum",
            "avg",
            "count",
            "min",
            "max",
            "group",
            "stddev",
            "stdvar",
            "topk",
            "bottomk",
            "count_values",
            "quantile",
            "limitk",
            "limit_ratio");

    private final String in;
    private int pos;

    private Lexer(String in) {
        this.in = in;
    }

    static List<Token> lex(String input) {
        Lexer l = new Lexer(input);
        List<Token> out = new ArrayList<>();
        Token t;
        do {
            t = l.next();
            out.add(t);
        } while (t.type() != TokenType.EOF);
        return out;
    }

    private PromqlParseException err(int at, String msg) {
        return new PromqlParseException(in, at, msg);
    }

    private Token tok(TokenType type, int start) {
        return new Token(type, in.substring(start, pos), start, pos);
    }

    private Token next() {
        while (pos < in.length()) {
            char c = in.charAt(pos);
            if (c == '#') {
                while (pos < in.length() && in.charAt(pos) != '\n') {
                    pos++;
                }
            } else if (Character.isWhitespace(c)) {
                pos++;
            } else {
                break;
            }
        }
        if (pos >= in.length()) {
            return new Token(TokenType.EOF, "", pos, pos);
        }
        int start = pos;
        char c = in.charAt(pos);
        char n = pos + 1 < in.length() ? in.charAt(pos + 1) : 0;
        switch (c) {
            case '(':
                pos++;
                return tok(TokenType.LPAREN, start);
            case ')':
                pos++;
                return tok(TokenType.RPAREN, start);
            case '{':
                pos++;
                return tok(TokenType.LBRACE, start);
            case '}':
                pos++;
                return tok(TokenType.RBRACE, start);
            case '[':
                pos++;
                return tok(TokenType.LBRACKET, start);
            case ']':
                pos++;
                return tok(TokenType.RBRACKET, start);
            case ',':
                pos++;
                return tok(TokenType.COMMA, start);
            case ':':
                pos++;
                return tok(TokenType.COLON, start);
            case '@':
                pos++;
                return tok(TokenType.AT, start);
            case '+':
                pos++;
                return tok(TokenType.ADD, start);
            case '-':
                pos++;
                return tok(TokenType.SUB, start);
            case '*':
                pos++;
                return tok(TokenType.MUL, start);
            case '/':
                pos++;
                return tok(TokenType.DIV, start);
            case '%':
                pos++;
                return tok(TokenType.MOD, start);
            case '^':
                pos++;
                return tok(TokenType.POW, start);
            case '=':
                if (n == '=') {
                    pos += 2;
                    return tok(TokenType.EQLC, start);
                }
                if (n == '~') {
                    pos += 2;
                    return tok(TokenType.EQL_REGEX, start);
                }
                pos++;
                return tok(TokenType.ASSIGN, start);
            case '!':
                if (n == '=') {
                    pos += 2;
                    return tok(TokenType.NEQ, start);
                }
                if (n == '~') {
                    pos += 2;
                    return tok(TokenType.NEQ_REGEX, start);
                }
                throw err(start, "unexpected character after '!': expected '=' or '~'");
            case '<':
                if (n == '=') {
                    pos += 2;
                    return tok(TokenType.LTE, start);
                }
                pos++;
                return tok(TokenType.LSS, start);
            case '>':
                if (n == '=') {
                    pos += 2;
                    return tok(TokenType.GTE, start);
                }
                pos++;
                return tok(TokenType.GTR, start);
            case '"':
            case '\'':
            case '`':
                return lexString(c);
            default:
                break;
        }
        if (isDigit(c) || (c == '.' && isDigit(n))) {
            return lexNumberOrDuration();
        }
        if (isIdentStart(c)) {
            while (pos < in.length() && (isIdentPart(in.charAt(pos)) || in.charAt(pos) == ':')) {
                pos++;
            }
            String text = in.substring(start, pos);
            if (text.indexOf(':') >= 0) {
                return new Token(TokenType.METRIC_IDENT, text, start, pos);
            }
            String lower = text.toLowerCase(Locale.ROOT);
            if (lower.equals("inf") || lower.equals("nan")) {
                return new Token(TokenType.NUMBER, text, start, pos);
            }
            TokenType kw = KEYWORDS.get(lower);
            if (kw != null) {
                return new Token(kw, text, start, pos);
            }
            if (AGGREGATORS.contains(lower)) {
                return new Token(TokenType.AGGREGATOR, text, start, pos);
            }
            return new Token(TokenType.IDENT, text, start, pos);
        }
        throw err(start, "unexpected character: '" + c + "'");
    }

    static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    static boolean isIdentStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    }

    static boolean isIdentPart(char c) {
        return isIdentStart(c) || isDigit(c);
    }

    private static boolean isUnitStart(char c) {
        return c == 's' || c == 'm' || c == 'h' || c == 'd' || c == 'w' || c == 'y';
    }

    private Token lexNumberOrDuration() {
        int start = pos;
        if (in.charAt(pos) == '0'
                && pos + 1 < in.length()
                && (in.charAt(pos + 1) == 'x' || in.charAt(pos + 1) == 'X')) {
            pos += 2;
            int digits = pos;
            while (pos < in.length() && Character.digit(in.charAt(pos), 16) >= 0) {
                pos++;
            }
            if (pos == digits) {
                throw err(start, "bad number: hexadecimal literal without digits");
            }
            checkNumberEnd(start);
            return tok(TokenType.NUMBER, start);
        }
        while (pos < in.length() && isDigit(in.charAt(pos))) {
            pos++;
        }
        boolean integer = true;
        if (pos < in.length() && in.charAt(pos) == '.') {
            integer = false;
            pos++;
            while (pos < in.length() && isDigit(in.charAt(pos))) {
                pos++;
            }
        }
        if (pos < in.length() && (in.charAt(pos) == 'e' || in.charAt(pos) == 'E')) {
            int save = pos;
            pos++;
            if (pos < in.length() && (in.charAt(pos) == '+' || in.charAt(pos) == '-')) {
                pos++;
            }
            if (pos < in.length() && isDigit(in.charAt(pos))) {
                integer = false;
                while (pos < in.length() && isDigit(in.charAt(pos))) {
                    pos++;
                }
            } else {
                pos = save;
            }
        }
        if (integer && pos < in.length() && isUnitStart(in.charAt(pos))) {
            // a duration: (digits unit)+
            pos = start;
            while (pos < in.length() && isDigit(in.charAt(pos))) {
                while (pos < in.length() && isDigit(in.charAt(pos))) {
                    pos++;
                }
                if (pos >= in.length() || !isUnitStart(in.charAt(pos))) {
                    throw err(start, "bad duration \"" + in.substring(start, pos) + "\": missing unit");
                }
                if (in.startsWith("ms", pos)) {
                    pos += 2;
                } else {
                    pos++;
                }
            }
            checkNumberEnd(start);
            return tok(TokenType.DURATION, start);
        }
        checkNumberEnd(start);
        return tok(TokenType.NUMBER, start);
    }

    private void checkNumberEnd(int start) {
        if (pos < in.length() && (isIdentPart(in.charAt(pos)) || in.charAt(pos) == '.')) {
            while (pos < in.length() && (isIdentPart(in.charAt(pos)) || in.charAt(pos) == '.')) {
                pos++;
            }
            throw err(start, "bad number or duration syntax: \"" + in.substring(start, pos) + "\"");
        }
    }

    private Token lexString(char quote) {
        int start = pos;
        pos++;
        if (quote == '`') {
            int end = in.indexOf('`', pos);
            if (end < 0) {
                throw err(start, "unterminated raw string");
            }
            String s = in.substring(pos, end);
            pos = end + 1;
            return new Token(TokenType.STRING, s, start, pos);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        StringBuilder chunk = new StringBuilder();
        while (true) {
            if (pos >= in.length()) {
                throw err(start, "unterminated quoted string");
            }
            char c = in.charAt(pos);
            if (c == quote) {
                pos++;
                break;
            }
            if (c == '\n') {
                throw err(start, "unterminated quoted string");
            }
            if (c != '\\') {
                chunk.append(c);
                pos++;
                continue;
            }
            flush(chunk, bytes);
            pos++;
            if (pos >= in.length()) {
                throw err(start, "unterminated quoted string");
            }
            char e = in.charAt(pos++);
            switch (e) {
                case 'a':
                    bytes.write(7);
                    break;
                case 'b':
                    bytes.write(8);
                    break;
                case 'f':
                    bytes.write(12);
                    break;
                case 'n':
                    bytes.write('\n');
                    break;
                case 'r':
                    bytes.write('\r');
                    break;
                case 't':
                    bytes.write('\t');
                    break;
                case 'v':
                    bytes.write(11);
                    break;
                case '\\':
                    bytes.write('\\');
                    break;
                case '"':
                case '\'':
                    if (e != quote) {
                        throw err(pos - 2, "unknown escape sequence \\" + e);
                    }
                    bytes.write(e);
                    break;
                case 'x':
                    bytes.write(hex(2, 16));
                    break;
                case 'u':
                case 'U': {
                    int cp = hex(e == 'u' ? 4 : 8, 16);
                    if (!Character.isValidCodePoint(cp) || (cp >= 0xD800 && cp <= 0xDFFF)) {
                        throw err(pos, "invalid Unicode code point in escape sequence");
                    }
                    byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                    bytes.write(b, 0, b.length);
                    break;
                }
                default:
                    if (e >= '0' && e <= '7') {
                        pos--;
                        int v = hex(3, 8);
                        if (v > 255) {
                            throw err(pos, "octal escape value > 255");
                        }
                        bytes.write(v);
                    } else {
                        throw err(pos - 2, "unknown escape sequence \\" + e);
                    }
            }
        }
        flush(chunk, bytes);
        return new Token(TokenType.STRING, decodeUtf8(bytes.toByteArray()), start, pos);
    }

    private int hex(int digits, int radix) {
        int v = 0;
        for (int i = 0; i < digits; i++) {
            if (pos >= in.length() || Character.digit(in.charAt(pos), radix) < 0) {
                throw err(pos, "illegal character in escape sequence");
            }
            v = v * radix + Character.digit(in.charAt(pos++), radix);
        }
        return v;
    }

    private static void flush(StringBuilder chunk, ByteArrayOutputStream bytes) {
        if (chunk.length() > 0) {
            byte[] b = chunk.toString().getBytes(StandardCharsets.UTF_8);
            bytes.write(b, 0, b.length);
            chunk.setLength(0);
        }
    }

    /**
     * Decodes UTF-8; bytes that are not valid UTF-8 become lone surrogates U+DC80..U+DCFF (so that they can be
     * reported as {@code \xHH} and rejected where valid UTF-8 is required).
     */
    static String decodeUtf8(byte[] b) {
        CharsetDecoder dec = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return dec.decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            StringBuilder sb = new StringBuilder();
            int i = 0;
            while (i < b.length) {
                int len = utf8Len(b, i);
                if (len <= 0) {
                    sb.append((char) (0xDC00 | (b[i] & 0xFF)));
                    i++;
                } else {
                    sb.append(new String(b, i, len, StandardCharsets.UTF_8));
                    i += len;
                }
            }
            return sb.toString();
        }
    }

    private static int utf8Len(byte[] b, int i) {
        int c = b[i] & 0xFF;
        int len;
        if (c < 0x80) {
            return 1;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
        } else {
            return -1;
        }
        if (i + len > b.length) {
            return -1;
        }
        for (int k = 1; k < len; k++) {
            if ((b[i + k] & 0xC0) != 0x80) {
                return -1;
            }
        }
        try {
            StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b, i, len));
            return len;
        } catch (CharacterCodingException e) {
            return -1;
        }
    }

    /** Whether a string holds only valid Unicode (no undecodable bytes). */
    static boolean isValidUtf8(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return false;
            }
            if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    /** Go's %q quoting: printable characters as-is, undecodable bytes as \xHH. */
    static String goQuote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0xDC80 && c <= 0xDCFF && !(i > 0 && Character.isHighSurrogate(s.charAt(i - 1)))) {
                sb.append(String.format("\\x%02x", c & 0xFF));
            } else if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c == '\t') {
                sb.append("\\t");
            } else if (c == '\r') {
                sb.append("\\r");
            } else if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\x%02x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }

    /** Parses a duration literal such as {@code 1h30m} to milliseconds. */
    static long parseDuration(String s) {
        long total = 0;
        int i = 0;
        while (i < s.length()) {
            int st = i;
            while (i < s.length() && isDigit(s.charAt(i))) {
                i++;
            }
            if (st == i) {
                throw new IllegalArgumentException("bad duration: \"" + s + "\"");
            }
            long n = Long.parseLong(s.substring(st, i));
            long unit;
            if (s.startsWith("ms", i)) {
                unit = 1;
                i += 2;
            } else if (i < s.length()) {
                unit = switch (s.charAt(i)) {
                    case 's' -> 1000L;
                    case 'm' -> 60_000L;
                    case 'h' -> 3_600_000L;
                    case 'd' -> 86_400_000L;
                    case 'w' -> 7 * 86_400_000L;
                    case 'y' -> 365 * 86_400_000L;
                    default -> throw new IllegalArgumentException("bad duration unit in \"" + s + "\"");
                };
                i++;
            } else {
                throw new IllegalArgumentException("bad duration \"" + s + "\": missing unit");
            }
            total = Math.addExact(total, Math.multiplyExact(n, unit));
        }
        return total;
    }

    /** Parses a PromQL number literal (decimal, hex, Inf, NaN). */
    static double parseNumber(String s) {
        String lower = s.toLowerCase(Locale.ROOT);
        if (lower.equals("inf") || lower.equals("+inf")) {
            return Double.POSITIVE_INFINITY;
        }
        if (lower.equals("-inf")) {
            return Double.NEGATIVE_INFINITY;
        }
        if (lower.equals("nan")) {
            return Double.NaN;
        }
        if (lower.startsWith("0x")) {
            return (double) Long.parseUnsignedLong(s.substring(2), 16);
        }
        return Double.parseDouble(s);
    }
}
