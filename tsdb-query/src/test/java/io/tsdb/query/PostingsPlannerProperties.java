package io.tsdb.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.core.Labels;
import io.tsdb.core.Sample;
import io.tsdb.testing.Gen;
import io.tsdb.testing.Seeds;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.roaringbitmap.RoaringBitmap;

/** The planner's bitmap algebra must select exactly what checking every matcher on every series selects. */
class PostingsPlannerProperties {

    private static final List<String> NAMES = List.of("__name__", "job", "env", "zone");
    private static final List<String> VALUES = List.of("a", "b", "ab", "abc", "b-1", "x.y", "");

    /** 0..40 series, each label of NAMES set to one of VALUES (empty: absent). */
    static List<Map<String, String>> seriesSet(Gen g) {
        return g.list(0, 40, () -> {
            Map<String, String> m = new TreeMap<>();
            for (String name : NAMES) {
                String v = g.pick(VALUES);
                if (!v.isEmpty()) {
                    m.put(name, v);
                }
            }
            return m;
        });
    }

    private static final List<String> MATCHER_VALUES =
            List.of("a", "b", "ab", "", "a.*", ".*", ".+", "b|abc", "a|", "x\\.y", "(a|b)c?", "[ab]+", "b-.*");

    /** 1..4 matchers of any type, name and value. */
    static List<Matcher> matcherList(Gen g) {
        return g.list(1, 4, () -> Matcher.of(g.oneOf(Matcher.Type.values()), g.pick(NAMES), g.pick(MATCHER_VALUES)));
    }

    private static boolean selectable(List<Matcher> ms) {
        return ms.stream().anyMatch(x -> !x.matchesEmpty());
    }

    @Test
    void plannerMatchesBruteForce() {
        Seeds.check(300, g -> plannerMatchesBruteForce(seriesSet(g), matcherList(g)));
    }

    private static void plannerMatchesBruteForce(List<Map<String, String>> series, List<Matcher> matchers) {
        MemorySeriesSource src = new MemorySeriesSource();
        List<Labels> added = new ArrayList<>();
        for (Map<String, String> s : series) {
            Labels l = Labels.of(s);
            if (l.size() == 0 || added.contains(l)) {
                continue;
            }
            src.add(l, List.of(new Sample(0, 1)));
            added.add(l);
        }
        PostingsPlanner planner = new PostingsPlanner(src);
        if (!selectable(matchers)) {
            assertThrows(IllegalArgumentException.class, () -> planner.select(matchers));
            return;
        }
        RoaringBitmap expected = new RoaringBitmap();
        for (int ref = 0; ref < added.size(); ref++) {
            Labels l = src.labels(ref);
            boolean all = true;
            for (Matcher m : matchers) {
                all &= m.matches(l.get(m.name()));
            }
            if (all) {
                expected.add(ref);
            }
        }
        assertEquals(expected, planner.select(matchers));
        // cached path gives the same answer
        assertEquals(expected, planner.select(matchers));
    }

    @Test
    void cacheSeesSeriesAddedLater() {
        MemorySeriesSource src = new MemorySeriesSource();
        src.add(Labels.of("__name__", "up", "job", "a"), List.of(new Sample(0, 1)));
        PostingsPlanner planner = new PostingsPlanner(src);
        List<Matcher> ms =
                List.of(Matcher.equal("__name__", "up"), Matcher.regex("job", "a|b"), Matcher.notEqual("zone", "z"));
        assertEquals(1, planner.select(ms).getCardinality());
        src.add(Labels.of("__name__", "up", "job", "b"), List.of(new Sample(0, 1)));
        src.add(Labels.of("__name__", "up", "job", "b", "zone", "z"), List.of(new Sample(0, 1)));
        RoaringBitmap now = planner.select(ms);
        assertEquals(2, now.getCardinality(), "new series visible, excluded one still excluded: " + now);
    }

    @Test
    void selectorWithOnlyEmptyMatchingMatchersIsRejectedQuotingIt() {
        PostingsPlanner planner = new PostingsPlanner(new MemorySeriesSource());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> planner.select(List.of(Matcher.equal("foo", ""), Matcher.regex("bar", ".*"))));
        assertTrue(e.getMessage().contains("{foo=\"\", bar=~\".*\"}"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> planner.select(List.of()));
    }
}
