package io.tsdb.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MatcherTest {

    @Test
    void equalityAndMissingLabelAsEmptyString() {
        Matcher eq = Matcher.equal("job", "api");
        assertTrue(eq.matches("api"));
        assertFalse(eq.matches("api2"));
        assertFalse(eq.matches(null));
        Matcher empty = Matcher.equal("foo", "");
        assertTrue(empty.matches(null), "{foo=\"\"} selects series without foo");
        assertTrue(empty.matchesEmpty());
        Matcher ne = Matcher.notEqual("job", "api");
        assertTrue(ne.matches(null));
        assertFalse(ne.matches("api"));
    }

    @Test
    void regexesAreFullyAnchored() {
        Matcher re = Matcher.regex("job", "api.*");
        assertTrue(re.matches("api-server"));
        assertFalse(re.matches("my-api-server"), "anchored at the start");
        Matcher suffix = Matcher.regex("job", "api");
        assertFalse(suffix.matches("api-server"), "anchored at the end");
        Matcher nre = Matcher.notRegex("job", "api.*");
        assertFalse(nre.matches("api-server"));
        assertTrue(nre.matches(null));
        assertTrue(Matcher.regex("a", ".*").matchesEmpty());
        assertFalse(Matcher.regex("a", ".+").matchesEmpty());
        assertTrue(Matcher.regex("a", "x|").matchesEmpty());
        assertTrue(Matcher.regex("a", "(?i:PRO).*").matches("production"));
        assertTrue(Matcher.regex("a", ".*").matches("multi\nline"), "dot matches newline as in Prometheus");
    }

    @Test
    void re2SyntaxIsTranslated() {
        assertTrue(Matcher.regex("a", "(?P<x>ab)c").matches("abc"));
        assertTrue(Matcher.regex("a", "[[:digit:]]+").matches("123"));
        assertFalse(Matcher.regex("a", "[[:digit:]]+").matches("12a"));
        assertTrue(Matcher.regex("a", "a{").matches("a{"), "a '{' that starts no repetition is literal in RE2");
        assertTrue(Matcher.regex("a", "a{2}").matches("aa"));
    }

    @Test
    void literalFastPaths() {
        Matcher set = Matcher.regex("a", "foo|bar|baz");
        assertEquals(List.of("foo", "bar", "baz"), set.literalSet());
        assertTrue(set.matches("bar"));
        assertFalse(set.matches("ba"));
        assertEquals(List.of("a.b"), Matcher.regex("a", "a\\.b").literalSet());
        assertNull(Matcher.regex("a", "a.b").literalSet());
        assertEquals("api-", Matcher.regex("a", "api-.+").literalPrefix());
        assertEquals("", Matcher.regex("a", "(?i)api").literalPrefix());
        assertEquals("ap", Matcher.regex("a", "api?").literalPrefix());
        assertEquals("", Matcher.regex("a", "a|b.*").literalPrefix());
    }

    @Test
    void badRegexIsRejectedQuotingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Matcher.regex("job", "(a"));
        assertTrue(e.getMessage().contains("\"(a\""), e.getMessage());
        assertTrue(e.getMessage().contains("job"), e.getMessage());
    }

    @Test
    void toStringUsesPrometheusNotation() {
        assertEquals("job=~\"a\\\"b\"", Matcher.regex("job", "a\"b").toString());
        assertEquals("x!=\"y\"", Matcher.notEqual("x", "y").toString());
    }
}
