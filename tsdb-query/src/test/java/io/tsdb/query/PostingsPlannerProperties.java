package io.tsdb.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.core.Labels;
import io.tsdb.core.Sample;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.roaringbitmap.RoaringBitmap;

/** The planner's bitmap algebra must select exactly what checking every matcher on every series selects. */
class PostingsPlannerProperties {

    private static final List<String> NAMES = List.of("__name__", "job", "env", "zone");
    private static final List<String> VALUES = List.of("a", "b", "ab", "abc", "b-1", "x.y", "");

    @Provide
    Arbitrary<List<Map<String, String>>> seriesSets() {
        Arbitrary<Map<String, String>> one = Arbitraries.of(VALUES).list().ofSize(NAMES.size()).map(vals -> {
            Map<String, String> m = new TreeMap<>();
            for (int i = 0; i < NAMES.size(); i++) {
                if (!vals.get(i).isEmpty()) {
                    m.put(NAMES.get(i), vals.get(i));
                }
            }
            return m;
        });
        return one.list().ofMinSize(0).ofMaxSize(40);
    }

    @Provide
    Arbitrary<List<Matcher>> matcherLists() {
        Arbitrary<String> value = Arbitraries.of("a", "b", "ab", "", "a.*", ".*", ".+", "b|abc", "a|", "x\\.y",
                "(a|b)c?", "[ab]+", "b-.*");
        Arbitrary<Matcher> m = Combinators.combine(Arbitraries.of(Matcher.Type.values()), Arbitraries.of(NAMES),
                value).as((t, n, v) -> Matcher.of(t, n, v));
        return m.list().ofMinSize(1).ofMaxSize(4);
    }

    private static boolean selectable(List<Matcher> ms) {
        return ms.stream().anyMatch(x -> !x.matchesEmpty());
    }

    @Property(tries = 300)
    void plannerMatchesBruteForce(@ForAll("seriesSets") List<Map<String, String>> series,
            @ForAll("matcherLists") List<Matcher> matchers) {
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
        List<Matcher> ms = List.of(Matcher.equal("__name__", "up"), Matcher.regex("job", "a|b"),
                Matcher.notEqual("zone", "z"));
        assertEquals(1, planner.select(ms).getCardinality());
        src.add(Labels.of("__name__", "up", "job", "b"), List.of(new Sample(0, 1)));
        src.add(Labels.of("__name__", "up", "job", "b", "zone", "z"), List.of(new Sample(0, 1)));
        RoaringBitmap now = planner.select(ms);
        assertEquals(2, now.getCardinality(), "new series visible, excluded one still excluded: " + now);
    }

    @Test
    void selectorWithOnlyEmptyMatchingMatchersIsRejectedQuotingIt() {
        PostingsPlanner planner = new PostingsPlanner(new MemorySeriesSource());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> planner.select(List.of(Matcher.equal("foo", ""), Matcher.regex("bar", ".*"))));
        assertTrue(e.getMessage().contains("{foo=\"\", bar=~\".*\"}"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> planner.select(List.of()));
    }
}
