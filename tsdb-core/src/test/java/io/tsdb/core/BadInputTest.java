package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every row of RELIABILITY.md section 3: the exception, nothing half-applied, and the store stays
 * usable (a valid write, a read and a reopen after each case).
 */
class BadInputTest {
    @TempDir
    Path dir;

    static final long NOW = 1_700_000_000_000L;
    StorageOptions opts;
    StorageImpl store;
    Model model;
    final Labels canary = Labels.of("__name__", "canary");
    long canaryT = 1;

    @BeforeEach
    void open() throws Exception {
        opts = TestUtil.small()
                .maxLabelsPerSeries(8)
                .maxLabelNameLength(40)
                .maxLabelValueLength(100)
                .maxLabelSetBytes(300)
                .build();
        store = StorageImpl.open(dir, opts);
        model = new Model();
    }

    @AfterEach
    void close() throws Exception {
        if (store != null) {
            store.close();
        }
    }

    /** A valid write, a read and a reopen; the store's content equals the model. */
    void assertUsable() throws Exception {
        long t = canaryT++;
        store.write(new TimeSeries(canary, List.of(new Sample(t, t * 2.0))));
        model.apply(canary, t, t * 2.0);
        assertEquals(model.render(), TestUtil.renderStore(store));
        store.close();
        store = StorageImpl.open(dir, opts);
        assertEquals(model.render(), TestUtil.renderStore(store));
    }

    void write(Labels l, long t, double v) throws Exception {
        store.write(new TimeSeries(l, List.of(new Sample(t, v))));
        assertTrue(model.apply(l, t, v));
    }

    @Test
    void nanInfinitiesAndNegativeZeroAreStoredBitExactly() throws Exception {
        Labels l = Labels.of("__name__", "special");
        double[] values = {
            Double.NaN,
            Sample.STALE_NAN,
            Double.longBitsToDouble(0x7ff0000000000001L),
            Double.longBitsToDouble(0xfff8000000000123L),
            Double.longBitsToDouble(0x7ff8dead0000beefL),
            Double.POSITIVE_INFINITY,
            Double.NEGATIVE_INFINITY,
            -0.0,
            0.0,
            Double.MIN_VALUE,
            -Double.MAX_VALUE
        };
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            samples.add(new Sample(i + 10, values[i]));
            model.apply(l, i + 10, values[i]);
        }
        store.write(new TimeSeries(l, samples));
        assertUsable();
        SampleIterator it = store.iterator(store.seriesRef(l), 0, 100);
        for (double v : values) {
            assertTrue(it.next());
            assertEquals(Double.doubleToRawLongBits(v), Double.doubleToRawLongBits(it.value()));
        }
        assertTrue(Sample.isStaleMarker(values[1]));
    }

    @Test
    void nullArgumentsNameTheParameter() throws Exception {
        assertNpe("series", () -> store.write((TimeSeries) null));
        assertNpe("series", () -> store.write((java.util.Collection<TimeSeries>) null));
        List<TimeSeries> withNull = new ArrayList<>();
        withNull.add(new TimeSeries(canary, List.of(new Sample(500, 1))));
        withNull.add(null);
        assertNpe("series[1]", () -> store.write(withNull)); // nothing of the batch is written
        assertNpe("labels", () -> new TimeSeries(null, List.of()));
        assertNpe("samples", () -> new TimeSeries(canary, null));
        // issue 8, point 8: a null inside the list is named with its index (was List.copyOf's bare NPE)
        assertNpe("samples[1]", () -> new TimeSeries(canary, java.util.Arrays.asList(new Sample(1, 1), null)));
        assertNpe("samples[0]", () -> TimeSeries.of(canary, (Sample) null));
        Appender app = store.appender();
        assertNpe("labels", () -> app.append(0, null, 1, 1));
        assertEquals(0, app.pending());
        assertNpe("name", () -> store.postings(null, "x"));
        assertNpe("value", () -> store.postings("x", null));
        assertNpe("name", () -> store.labelValues(null));
        assertNpe("dir", () -> StorageImpl.open(null, opts));
        assertNpe("options", () -> StorageImpl.open(dir, null));
        assertNpe("label value of \"a\"", () -> Labels.of("a", null));
        assertUsable();
    }

    static void assertNpe(String name, Executable e) {
        NullPointerException npe = assertThrows(NullPointerException.class, e);
        assertEquals(name, npe.getMessage());
    }

    @Test
    void invalidLabels() throws Exception {
        InvalidLabelsException e = assertThrows(
                InvalidLabelsException.class,
                () -> store.write(new TimeSeries(Labels.empty(), List.of(new Sample(1, 1)))));
        assertTrue(e.getMessage().contains("empty label set"), e.getMessage());
        assertThrows(
                InvalidLabelsException.class,
                () -> store.write(new TimeSeries(Labels.of("a", ""), List.of(new Sample(1, 1)))));
        assertThrows(InvalidLabelsException.class, () -> store.appender().append(0, Labels.empty(), 1, 1));
        e = assertThrows(InvalidLabelsException.class, () -> Labels.of("", "x"));
        assertTrue(e.getMessage().contains("empty label name"), e.getMessage());
        e = assertThrows(InvalidLabelsException.class, () -> Labels.of("job-name", "x"));
        assertTrue(e.getMessage().contains("\"job-name\""), e.getMessage());
        e = assertThrows(InvalidLabelsException.class, () -> Labels.of("x", "1", "x", "2"));
        assertEquals("label name \"x\" is not unique", e.getMessage());
        e = assertThrows(InvalidLabelsException.class, () -> Labels.of("v", "bad\uD800"));
        assertTrue(e.getMessage().contains("unpaired surrogate"), e.getMessage());
        assertEquals(0, store.stats().series());
        assertUsable();
    }

    @Test
    void emptyValueDropsTheLabelAndPermutationsAreOneSeries() throws Exception {
        write(Labels.of("__name__", "up", "job", "a", "zone", ""), 1, 1);
        write(Labels.of("job", "a", "__name__", "up"), 2, 2);
        assertEquals(1, store.stats().series());
        assertEquals(List.of("__name__", "job"), store.labelNames());
        assertUsable();
    }

    @Test
    void limits() throws Exception {
        Labels.Builder many = Labels.builder();
        for (int i = 0; i < 9; i++) {
            many.set("l" + i, "v");
        }
        assertLimit("maxLabelsPerSeries", many.build());
        assertLimit("maxLabelNameLength", Labels.of("n".repeat(41), "v"));
        assertLimit("maxLabelValueLength", Labels.of("n", "v".repeat(101)));
        assertLimit("maxLabelSetBytes", Labels.of("a", "x".repeat(100), "b", "y".repeat(100), "c", "z".repeat(100)));
        assertEquals(0, store.stats().series());
        assertUsable();
    }

    void assertLimit(String limit, Labels l) {
        LimitExceededException e = assertThrows(
                LimitExceededException.class, () -> store.write(new TimeSeries(l, List.of(new Sample(1, 1)))));
        assertEquals(limit, e.limit());
        assertTrue(e.getMessage().contains(limit), e.getMessage());
        e = assertThrows(LimitExceededException.class, () -> store.appender().append(0, l, 1, 1));
        assertEquals(limit, e.limit());
    }

    @Test
    void maxSeries() throws Exception {
        store.close();
        opts = opts.toBuilder().maxSeries(2).build();
        store = StorageImpl.open(dir, opts);
        write(canary, 1, 1);
        canaryT = 2;
        write(Labels.of("a", "1"), 1, 1);
        LimitExceededException e = assertThrows(LimitExceededException.class, () -> write(Labels.of("a", "2"), 1, 1));
        assertEquals("maxSeries", e.limit());
        assertUsable();
    }

    @Test
    void outOfOrderDuplicateAndIdempotent() throws Exception {
        Labels l = Labels.of("__name__", "ooo");
        write(l, 100, 1.0);
        OutOfOrderSampleException o = assertThrows(
                OutOfOrderSampleException.class, () -> store.write(new TimeSeries(l, List.of(new Sample(99, 1.0)))));
        assertTrue(o.getMessage().contains("99"), o.getMessage());
        // same timestamp, same bits: idempotent no-op
        store.write(new TimeSeries(l, List.of(new Sample(100, 1.0))));
        DuplicateSampleException d = assertThrows(
                DuplicateSampleException.class, () -> store.write(new TimeSeries(l, List.of(new Sample(100, 2.0)))));
        assertTrue(d.getMessage().contains("100"), d.getMessage());
        // NaN payloads count as different values
        write(l, 101, Double.NaN);
        assertThrows(
                DuplicateSampleException.class,
                () -> store.write(new TimeSeries(l, List.of(new Sample(101, Sample.STALE_NAN)))));
        store.write(new TimeSeries(l, List.of(new Sample(101, Double.NaN))));
        // via the appender, rejected at commit
        Appender app = store.appender();
        app.append(0, l, 50, 1);
        assertThrows(OutOfOrderSampleException.class, app::commit);
        assertEquals(0, app.pending());
        assertUsable();
    }

    @Test
    void outOfBounds() throws Exception {
        store.close();
        opts = opts.toBuilder()
                .maxFutureSkew(Duration.ofMinutes(10))
                .retention(Duration.ofHours(1))
                .clock(() -> NOW)
                .build();
        store = StorageImpl.open(dir, opts);
        Labels l = Labels.of("__name__", "bounds");
        canaryT = NOW;
        for (long t : new long[] {
            Long.MIN_VALUE, Long.MAX_VALUE, NOW + Duration.ofMinutes(11).toMillis()
        }) {
            OutOfBoundsException e = assertThrows(
                    OutOfBoundsException.class, () -> store.write(new TimeSeries(l, List.of(new Sample(t, 1)))));
            assertTrue(e.getMessage().contains(Long.toString(t)), e.getMessage());
            assertThrows(OutOfBoundsException.class, () -> store.appender().append(0, l, t, 1));
        }
        write(l, NOW, 1); // sets the newest timestamp
        OutOfBoundsException e = assertThrows(
                OutOfBoundsException.class,
                () -> store.write(
                        new TimeSeries(Labels.of("__name__", "old"), List.of(new Sample(NOW - 3_600_001, 1)))));
        assertTrue(e.getMessage().contains("retention"), e.getMessage());
        assertNull(store.seriesLabels(store.seriesRef(Labels.of("__name__", "old")))); // no empty series left behind
        assertEquals(-1, store.seriesRef(Labels.of("__name__", "old")));
        write(l, NOW + Duration.ofMinutes(9).toMillis(), 2); // within the skew
        assertUsable();
    }

    @Test
    void boundsOffStillRejectsTheExtremesAndEncodesHugeDeltas() throws Exception {
        store.close();
        opts = opts.toBuilder().maxFutureSkew(Duration.ZERO).build(); // the future bound is on by default
        store = StorageImpl.open(dir, opts);
        Labels l = Labels.of("__name__", "huge");
        assertThrows(
                OutOfBoundsException.class,
                () -> store.write(new TimeSeries(l, List.of(new Sample(Long.MIN_VALUE, 1)))));
        write(l, Long.MIN_VALUE + 1, 1);
        write(l, -1, 2);
        write(l, Long.MAX_VALUE - 1, 3);
        assertUsable();
    }

    @Test
    void partialWriteListsEachRejectedIndex() throws Exception {
        Labels l = Labels.of("__name__", "partial");
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            long t = (i == 100 || i == 200) ? 5 : i + 1000; // two out-of-order samples
            samples.add(new Sample(t, i));
        }
        samples.set(300, new Sample(Long.MAX_VALUE, 1)); // out of bounds
        List<TimeSeries> batch =
                List.of(new TimeSeries(Labels.empty(), List.of(new Sample(1, 1))), new TimeSeries(l, samples));
        PartialWriteException e = assertThrows(PartialWriteException.class, () -> store.write(batch));
        assertTrue(e.getMessage().startsWith("4 of 501 samples rejected, 497 written"), e.getMessage());
        assertEquals(4, e.rejected().size());
        assertEquals(0, e.rejected().get(0).seriesIndex());
        assertEquals(-1, e.rejected().get(0).sampleIndex());
        assertInstanceOf(InvalidLabelsException.class, e.rejected().get(0).reason());
        assertEquals(
                List.of(100, 200, 300),
                e.rejected().subList(1, 4).stream()
                        .map(PartialWriteException.Rejection::sampleIndex)
                        .toList());
        assertEquals(
                List.of(101L, 201L, 301L),
                e.rejected().subList(1, 4).stream()
                        .map(PartialWriteException.Rejection::flatIndex)
                        .toList());
        assertInstanceOf(OutOfOrderSampleException.class, e.rejected().get(1).reason());
        assertInstanceOf(OutOfBoundsException.class, e.rejected().get(3).reason());
        assertEquals(497, e.writtenSamples());
        for (Sample s : samples) {
            if (s.timestamp() != 5 && s.timestamp() != Long.MAX_VALUE) {
                model.apply(l, s.timestamp(), s.value());
            }
        }
        assertUsable();
    }

    @Test
    void appenderPartialCommitReportsAppendIndexes() throws Exception {
        Labels a = Labels.of("__name__", "a");
        Labels b = Labels.of("__name__", "b");
        write(a, 10, 1);
        Appender app = store.appender();
        app.append(0, a, 5, 1); // #0 out of order
        app.append(0, b, 5, 1); // #1 ok
        app.append(0, a, 11, 1); // #2 ok
        app.append(0, a, 11, 2); // #3 duplicate
        PartialWriteException e = assertThrows(PartialWriteException.class, app::commit);
        assertEquals(
                List.of(0L, 3L),
                e.rejected().stream()
                        .map(PartialWriteException.Rejection::flatIndex)
                        .sorted()
                        .toList());
        model.apply(b, 5, 1);
        model.apply(a, 11, 1);
        assertUsable();
    }

    @Test
    void iteratorWithMintAfterMaxtIsEmpty() throws Exception {
        write(Labels.of("__name__", "q"), 5, 1);
        assertFalse(store.iterator(store.seriesRef(Labels.of("__name__", "q")), 10, 1)
                .next());
        assertFalse(store.iterator(123456, 0, 10).next());
        assertNull(store.seriesLabels(123456));
        assertUsable();
    }

    @Test
    void closedStoreThrowsStoreClosedException() throws Exception {
        write(Labels.of("__name__", "c"), 5, 1);
        Appender app = store.appender();
        app.append(0, canary, 1, 1);
        store.close();
        store.close(); // idempotent
        List<Executable> calls = List.of(
                () -> store.write(new TimeSeries(canary, List.of(new Sample(1, 1)))),
                () -> store.write(List.of()),
                () -> store.appender(),
                app::commit,
                () -> app.append(0, canary, 2, 2),
                () -> store.flush(),
                () -> store.postings("a", "b"),
                () -> store.allPostings(),
                () -> store.labelNames(),
                () -> store.labelValues("a"),
                () -> store.seriesLabels(0),
                () -> store.iterator(0, 0, 1),
                () -> store.stats(),
                () -> store.checkpoint());
        for (Executable c : calls) {
            StoreClosedException e = assertThrows(StoreClosedException.class, c);
            assertInstanceOf(IllegalStateException.class, e);
        }
        store = StorageImpl.open(dir, opts);
        model.apply(Labels.of("__name__", "c"), 5, 1);
        assertUsable();
    }

    /** Issue 8, point 13: metric names PromQL cannot select bare are refused by default, accepted by the option. */
    @Test
    void metricNamesPromqlCannotSelectAreRefusedUnlessUtf8NamesAreOn() throws Exception {
        for (String bad : new String[] {"my.metric", "1up", "http-requests", "caf\u00e9"}) {
            InvalidLabelsException e = assertThrows(
                    InvalidLabelsException.class,
                    () -> store.write(new TimeSeries(Labels.of("__name__", bad), List.of(new Sample(1, 1)))));
            assertTrue(
                    e.getMessage().contains("invalid metric name")
                            && e.getMessage().contains("utf8MetricNames"),
                    e.getMessage());
            assertThrows(
                    InvalidLabelsException.class, () -> store.appender().append(0, Labels.of("__name__", bad), 1, 1));
        }
        write(Labels.of("__name__", "job:requests_total:rate5m"), 1, 1); // colons are valid (recording rules)
        assertUsable();
        store.close();
        opts = opts.toBuilder().utf8MetricNames(true).build();
        store = StorageImpl.open(dir, opts);
        write(Labels.of("__name__", "my.metric"), 1, 1);
        assertTrue(store.seriesRef(Labels.of("__name__", "my.metric")) >= 0);
        assertUsable();
    }

    /** Issue 8, point 13: an error about a 101-label set does not print all 101 labels. */
    @Test
    void errorMessagesShowAShortFormOfHugeLabelSets() throws Exception {
        String[] nv = new String[202];
        for (int i = 0; i < 101; i++) {
            nv[2 * i] = "l" + i;
            nv[2 * i + 1] = "v".repeat(i == 0 ? 500 : 5); // l0 sorts first: shown, cut
        }
        Labels huge = Labels.of(nv);
        LimitExceededException e = assertThrows(
                LimitExceededException.class, () -> store.write(new TimeSeries(huge, List.of(new Sample(1, 1)))));
        assertTrue(e.getMessage().contains("93 more labels") && e.getMessage().length() < 1_000, e.getMessage());
        assertTrue(e.getMessage().contains("(500 chars)"), e.getMessage());
        assertUsable();
    }
}
