package io.tsdb.query.promql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.core.Labels;
import io.tsdb.core.Sample;
import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageOptions;
import io.tsdb.core.TimeSeries;
import io.tsdb.query.MemorySeriesSource;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromqlEngineTest {

    private MemorySeriesSource src;
    private PromqlEngine engine;

    private static Instant at(long seconds) {
        return Instant.ofEpochSecond(seconds);
    }

    /** A counter growing by {@code inc} every 15 s from t=0 for {@code n} samples. */
    private static List<Sample> counter(double inc, int n) {
        List<Sample> s = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            s.add(new Sample(i * 15_000L, i * inc));
        }
        return s;
    }

    @BeforeEach
    void setUp() {
        src = new MemorySeriesSource();
        src.add(Labels.of("__name__", "req_total", "job", "api", "instance", "1"), counter(15, 41));
        src.add(Labels.of("__name__", "req_total", "job", "api", "instance", "2"), counter(30, 41));
        src.add(Labels.of("__name__", "req_total", "job", "db", "instance", "1"), counter(150, 41));
        engine = new PromqlEngine(src, PromqlEngine.Options.defaults());
    }

    private QueryResult.Vector vector(String q, long t) {
        return assertInstanceOf(
                QueryResult.Vector.class, engine.instantQuery(q, at(t)).value());
    }

    private double single(String q, long t) {
        QueryResult.Vector v = vector(q, t);
        assertEquals(1, v.samples().size(), v.toString());
        return v.samples().get(0).value();
    }

    @Test
    void rateOfASteadyCounterIsItsSlope() {
        assertEquals(1.0, single("rate(req_total{instance=\"1\", job=\"api\"}[5m])", 600), 1e-9);
        assertEquals(11.0, single("sum(rate(req_total{job=~\"a.*|d.*\", instance=\"1\"}[5m]))", 600), 1e-9);
        QueryResult.Vector byJob = vector("sum by (job) (rate(req_total[5m]))", 600);
        assertEquals(2, byJob.samples().size());
        assertEquals(Labels.of("job", "api"), byJob.samples().get(0).labels());
        assertEquals(3.0, byJob.samples().get(0).value(), 1e-9);
    }

    @Test
    void lookbackAndStaleness() {
        src.add(
                Labels.of("__name__", "g"),
                List.of(new Sample(0, 1), new Sample(10_000, Sample.STALE_NAN), new Sample(20_000, 2)));
        assertEquals(1.0, single("g", 5));
        assertTrue(vector("g", 10).samples().isEmpty(), "a stale marker ends the series");
        assertEquals(2.0, single("g", 20));
        assertEquals(2.0, single("g", 319));
        assertTrue(vector("g", 320).samples().isEmpty(), "5 minutes after the last sample the series is gone");
        assertEquals(2.0, single("count_over_time(g[1m])", 30), "range vectors skip stale markers");
    }

    @Test
    void scalarStringAndRangeQueries() {
        QueryResult r = engine.instantQuery("1 + 2 * 3", at(0));
        assertEquals(7.0, assertInstanceOf(QueryResult.Scalar.class, r.value()).value());
        assertEquals("scalar: 7 @[0]", r.toString());
        assertEquals(
                "x",
                assertInstanceOf(
                                QueryResult.StringValue.class,
                                engine.instantQuery("\"x\"", at(0)).value())
                        .value());
        QueryResult range = engine.rangeQuery("req_total{job=\"db\"} / 150", at(0), at(60), Duration.ofSeconds(30));
        QueryResult.Matrix m = assertInstanceOf(QueryResult.Matrix.class, range.value());
        assertEquals(1, m.series().size());
        assertEquals(Labels.of("instance", "1", "job", "db"), m.series().get(0).labels());
        assertEquals(
                List.of(
                        new QueryResult.Point(0, 0),
                        new QueryResult.Point(30_000, 2),
                        new QueryResult.Point(60_000, 4)),
                m.series().get(0).points());
        assertTrue(range.toString().contains("{instance=\"1\", job=\"db\"} =>"), range.toString());
        QueryResult.Matrix raw = assertInstanceOf(
                QueryResult.Matrix.class,
                engine.instantQuery("req_total{job=\"db\"}[30s]", at(60)).value());
        assertEquals(2, raw.series().get(0).points().size());
    }

    @Test
    void badQueriesFailClearly() {
        assertThrows(PromqlParseException.class, () -> engine.instantQuery("sum(", at(0)));
        assertThrows(
                PromqlParseException.class,
                () -> engine.rangeQuery("req_total[5m]", at(0), at(60), Duration.ofSeconds(15)));
        assertThrows(
                IllegalArgumentException.class, () -> engine.rangeQuery("1", at(60), at(0), Duration.ofSeconds(15)));
        assertThrows(IllegalArgumentException.class, () -> engine.rangeQuery("1", at(0), at(60), Duration.ZERO));
        PromqlEvalException e = assertThrows(
                PromqlEvalException.class,
                () -> engine.instantQuery("req_total * on(job) group_left req_total", at(60)));
        assertTrue(e.getMessage().contains("many-to-many matching not allowed"), e.getMessage());
        UnsupportedOperationException u = assertThrows(
                UnsupportedOperationException.class, () -> engine.instantQuery("histogram_count(req_total)", at(60)));
        assertTrue(u.getMessage().contains("native histograms"));
    }

    @Test
    void sampleLimitIsEnforced() {
        PromqlEngine small =
                new PromqlEngine(src, PromqlEngine.Options.defaults().withMaxSamples(50));
        TooManySamplesException e = assertThrows(
                TooManySamplesException.class,
                () -> small.instantQuery("sum(count_over_time(req_total[10m]))", at(600)));
        assertTrue(e.getMessage().contains("too many samples"), e.getMessage());
        assertEquals(3.0, single("count(req_total)", 600));
    }

    @Test
    void timeoutIsEnforced() {
        PromqlEngine quick =
                new PromqlEngine(src, PromqlEngine.Options.defaults().withTimeout(Duration.ofNanos(1)));
        assertThrows(QueryTimeoutException.class, () -> quick.instantQuery("sum(rate(req_total[5m]))", at(600)));
    }

    @Test
    void subqueriesAndAtModifier() {
        assertEquals(1.0, single("max_over_time(rate(req_total{job=\"api\",instance=\"1\"}[1m])[5m:30s])", 600), 1e-9);
        assertEquals(60.0, single("req_total{job=\"api\",instance=\"1\"} @ 60", 600));
        assertEquals(45.0, single("req_total{job=\"api\",instance=\"1\"} offset 15s @ 60", 600));
    }

    @Test
    void worksOverStorageImpl(@TempDir Path dir) throws Exception {
        try (StorageImpl st = StorageImpl.open(dir, StorageOptions.defaults())) {
            st.write(new TimeSeries(Labels.of("__name__", "m", "a", "x"), counter(1, 41)));
            PromqlEngine e = new PromqlEngine(st);
            QueryResult r = e.instantQuery("rate(m[5m])", at(600));
            QueryResult.Vector v = assertInstanceOf(QueryResult.Vector.class, r.value());
            assertEquals(1, v.samples().size());
            assertEquals(1.0 / 15, v.samples().get(0).value(), 1e-9);
        }
    }
}
