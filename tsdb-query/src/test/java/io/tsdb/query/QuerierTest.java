package io.tsdb.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.core.Labels;
import io.tsdb.core.Sample;
import io.tsdb.core.SampleIterator;
import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageOptions;
import io.tsdb.core.TimeSeries;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuerierTest {

    @TempDir
    Path dir;

    private static List<Sample> samples(long from, long step, int n) {
        List<Sample> s = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            s.add(new Sample(from + i * step, i));
        }
        return s;
    }

    @Test
    void selectOverStorageImplReturnsSortedSeriesWithLazyIteratorsInRange() throws Exception {
        try (StorageImpl st = StorageImpl.open(dir, StorageOptions.defaults())) {
            st.write(List.of(
                    new TimeSeries(Labels.of("__name__", "up", "job", "b", "zone", "z1"), samples(1000, 1000, 10)),
                    new TimeSeries(Labels.of("__name__", "up", "job", "a"), samples(1000, 1000, 10)),
                    new TimeSeries(Labels.of("__name__", "down", "job", "a"), samples(1000, 1000, 10))));
            Querier q = new Querier(st);
            List<Series> got = q.select(3000, 5000, Matcher.equal("__name__", "up"));
            assertEquals(2, got.size());
            assertEquals(Labels.of("__name__", "up", "job", "a"), got.get(0).labels());
            assertEquals(
                    Labels.of("__name__", "up", "job", "b", "zone", "z1"),
                    got.get(1).labels());
            SampleIterator it = got.get(0).iterator();
            List<Long> ts = new ArrayList<>();
            while (it.next()) {
                ts.add(it.timestamp());
            }
            assertEquals(List.of(3000L, 4000L, 5000L), ts);

            // {zone=""} selects series without zone; != on a missing label matches
            assertEquals(
                    1,
                    q.select(0, 10_000, Matcher.equal("__name__", "up"), Matcher.equal("zone", ""))
                            .size());
            assertEquals(
                    2,
                    q.select(0, 10_000, Matcher.regex("job", "a|b"), Matcher.notEqual("zone", "z1"))
                            .size());

            assertEquals(List.of("__name__", "job", "zone"), q.labelNames());
            assertEquals(List.of("__name__", "job"), q.labelNames(Matcher.equal("__name__", "down")));
            assertEquals(List.of("a", "b"), q.labelValues("job"));
            assertEquals(List.of("b"), q.labelValues("job", Matcher.equal("zone", "z1")));
            assertEquals(List.of(), q.labelValues("nope"));
        }
    }

    @Test
    void badInputIsRejectedQuotingTheValue() {
        Querier q = new Querier(new MemorySeriesSource());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> q.select(10, 5, Matcher.equal("a", "b")));
        assertTrue(e.getMessage().contains("10") && e.getMessage().contains("5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> q.select(0, 5));
        e = assertThrows(IllegalArgumentException.class, () -> q.select(0, 5, Matcher.regex("a", ".*")));
        assertTrue(e.getMessage().contains("a=~\".*\""), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> q.select(0, 5, Matcher.regex("a", "[")));
        assertTrue(e.getMessage().contains("\"[\""), e.getMessage());
    }
}
