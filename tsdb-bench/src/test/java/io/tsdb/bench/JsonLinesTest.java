package io.tsdb.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.bench.util.JsonLines;
import io.tsdb.testing.Seeds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonLinesTest {

    @Test
    void parsesFlatObjectsInOrder() {
        Map<String, String> m = JsonLines.parseObject("{\"__name__\":\"up\", \"job\" : \"node\",\"empty\":\"\"}");
        assertEquals(List.of("__name__", "job", "empty"), List.copyOf(m.keySet()));
        assertEquals("up", m.get("__name__"));
        assertEquals("node", m.get("job"));
        assertEquals("", m.get("empty"));
        assertEquals(Map.of(), JsonLines.parseObject(" { } "));
    }

    @Test
    void decodesEscapes() {
        Map<String, String> m = JsonLines.parseObject("{\"a\\\"b\":\"x\\\\y\\/z\\n\\t\\u00e9\\ud83d\\ude00\"}");
        assertEquals("x\\y/z\n\té\ud83d\ude00", m.get("a\"b"));
    }

    @Test
    void rejectsMalformedLinesWithPosition() {
        String[] bad = {
            "",
            "{",
            "{\"a\":1}",
            "{\"a\":\"b\"",
            "{\"a\":\"b\",}",
            "{\"a\" \"b\"}",
            "{\"a\":\"b\"} x",
            "{\"a\":\"b\",\"a\":\"c\"}",
            "{\"a\":{\"b\":\"c\"}}",
            "{\"a\":\"\\q\"}",
            "{\"a\":\"\\u12\"}",
            "[\"a\"]"
        };
        for (String s : bad) {
            JsonLines.JsonLinesException e =
                    assertThrows(JsonLines.JsonLinesException.class, () -> JsonLines.parseObject(s), s);
            assertTrue(e.getMessage().contains("column"), e.getMessage());
        }
    }

    @Test
    void readsAtMostMaxNonBlankLinesAndNamesTheBadLine(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("s.json");
        Files.writeString(f, "{\"a\":\"1\"}\n\n{\"a\":\"2\"}\n{\"a\":\"3\"}\n");
        assertEquals(2, JsonLines.read(f, 2).size());
        assertEquals("3", JsonLines.read(f, 10).get(2).get("a"));
        Files.writeString(f, "{\"a\":\"1\"}\n{\"a\":2}\n");
        JsonLines.JsonLinesException e = assertThrows(JsonLines.JsonLinesException.class, () -> JsonLines.read(f, 10));
        assertTrue(e.getMessage().contains(":2:"), e.getMessage());
    }

    @Test
    void roundTripsAnyStrings() {
        // any UTF-16 strings (controls, quotes, backslashes, lone surrogates, pairs), empty up to 255 chars
        Seeds.check(
                200,
                g -> roundTripsAnyStrings(
                        g.list(0, 255, () -> g.anyString(255)), g.list(0, 255, () -> g.anyString(255))));
    }

    private static void roundTripsAnyStrings(List<String> keys, List<String> values) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < Math.min(keys.size(), values.size()); i++) {
            m.putIfAbsent(keys.get(i), values.get(i));
        }
        StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        for (Map.Entry<String, String> e : m.entrySet()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append(quote(e.getKey())).append(':').append(quote(e.getValue()));
        }
        sb.append('}');
        assertEquals(m, JsonLines.parseObject(sb.toString()));
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
