package io.tsdb.bench.util;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small parser for JSON-lines files whose every line is a flat object of string keys to string
 * values, like Prometheus's {@code 20kseries.json}: {@code {"__name__":"up","job":"a"}}.
 * Standard JSON string escapes are decoded (including {@code \\uXXXX} and surrogate pairs).
 * Anything else (numbers, nesting, duplicate keys, trailing garbage) is an error naming the line
 * and column. Blank lines are skipped.
 */
public final class JsonLines {
    private JsonLines() {}

    /** Thrown for a malformed line; the message names the line (1-based) and column. */
    public static final class JsonLinesException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        public JsonLinesException(String message) {
            super(message);
        }
    }

    /** Reads at most {@code max} objects (non-blank lines) from {@code file}. */
    public static List<Map<String, String>> read(Path file, int max) throws IOException {
        List<Map<String, String>> out = new ArrayList<>();
        if (max > 0) {
            scan(file, m -> {
                out.add(m);
                return out.size() < max;
            });
        }
        return out;
    }

    /**
     * Parses the objects of {@code file} in order, handing each to {@code consumer} until it
     * returns false or the file ends. An {@link IllegalArgumentException} from the consumer is
     * rethrown as a {@link JsonLinesException} naming the file and line.
     */
    public static void scan(Path file, java.util.function.Predicate<Map<String, String>> consumer) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                Map<String, String> m;
                try {
                    m = parseObject(line);
                } catch (JsonLinesException e) {
                    throw new JsonLinesException(file + ":" + lineNo + ": " + e.getMessage());
                }
                boolean more;
                try {
                    more = consumer.test(m);
                } catch (JsonLinesException e) {
                    throw e;
                } catch (IllegalArgumentException e) {
                    // e.g. invalid labels: name the line they came from
                    throw new JsonLinesException(file + ":" + lineNo + ": " + e.getMessage());
                }
                if (!more) {
                    return;
                }
            }
        }
    }

    /** Parses one flat object; keys keep their order of appearance. */
    public static Map<String, String> parseObject(String s) {
        Parser p = new Parser(s);
        Map<String, String> m = p.object();
        p.skipWs();
        if (p.pos != s.length()) {
            throw p.error("unexpected trailing characters");
        }
        return m;
    }

    private static final class Parser {
        final String s;
        int pos;

        Parser(String s) {
            this.s = s;
        }

        JsonLinesException error(String what) {
            return new JsonLinesException("column " + (pos + 1) + ": " + what);
        }

        void skipWs() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                    pos++;
                } else {
                    break;
                }
            }
        }

        void expect(char c) {
            skipWs();
            if (pos >= s.length()) {
                throw error("expected '" + c + "' but the line ended");
            }
            if (s.charAt(pos) != c) {
                throw error("expected '" + c + "' but found '" + s.charAt(pos) + "'");
            }
            pos++;
        }

        Map<String, String> object() {
            expect('{');
            Map<String, String> m = new LinkedHashMap<>();
            skipWs();
            if (pos < s.length() && s.charAt(pos) == '}') {
                pos++;
                return m;
            }
            while (true) {
                skipWs();
                int keyPos = pos;
                String key = string("a string key");
                expect(':');
                skipWs();
                String value = string("a string value (only flat string-to-string objects are supported)");
                if (m.put(key, value) != null) {
                    pos = keyPos;
                    throw error("duplicate key \"" + key + "\"");
                }
                skipWs();
                if (pos >= s.length()) {
                    throw error("expected ',' or '}' but the line ended");
                }
                char c = s.charAt(pos++);
                if (c == '}') {
                    return m;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or '}' but found '" + c + "'");
                }
            }
        }

        String string(String what) {
            if (pos >= s.length() || s.charAt(pos) != '"') {
                throw error("expected " + what);
            }
            pos++;
            StringBuilder sb = null;
            int start = pos;
            while (true) {
                if (pos >= s.length()) {
                    throw error("unterminated string");
                }
                char c = s.charAt(pos);
                if (c == '"') {
                    String out = sb == null
                            ? s.substring(start, pos)
                            : sb.append(s, start, pos).toString();
                    pos++;
                    return out;
                }
                if (c < 0x20) {
                    throw error("control character in string");
                }
                if (c == '\\') {
                    if (sb == null) {
                        sb = new StringBuilder();
                    }
                    sb.append(s, start, pos);
                    pos++;
                    if (pos >= s.length()) {
                        throw error("unterminated escape");
                    }
                    char e = s.charAt(pos++);
                    switch (e) {
                        case '"' -> sb.append('"');
                        case '\\' -> sb.append('\\');
                        case '/' -> sb.append('/');
                        case 'b' -> sb.append('\b');
                        case 'f' -> sb.append('\f');
                        case 'n' -> sb.append('\n');
                        case 'r' -> sb.append('\r');
                        case 't' -> sb.append('\t');
                        case 'u' -> {
                            if (pos + 4 > s.length()) {
                                throw error("truncated \\u escape");
                            }
                            int cp = 0;
                            for (int i = 0; i < 4; i++) {
                                int d = Character.digit(s.charAt(pos + i), 16);
                                if (d < 0) {
                                    throw error("bad hex digit in \\u escape");
                                }
                                cp = cp * 16 + d;
                            }
                            pos += 4;
                            sb.append((char) cp);
                        }
                        default -> {
                            pos--;
                            throw error("unknown escape '\\" + e + "'");
                        }
                    }
                    start = pos;
                    continue;
                }
                pos++;
            }
        }
    }
}
