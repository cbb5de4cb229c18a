package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AppenderTest {
    @TempDir
    Path dir;

    @Test
    void cachedRefsSkipLookupAndSurviveReopen() throws Exception {
        StorageOptions opts = TestUtil.small().build();
        Labels a = Labels.of("__name__", "a");
        Labels b = Labels.of("__name__", "b");
        long refA;
        long refB;
        Model model = new Model();
        try (StorageImpl s = StorageImpl.open(dir, opts)) {
            Appender app = s.appender();
            refA = app.append(0, a, 1, 1);
            refB = app.append(0, b, 1, 2);
            assertNotEquals(0, refA);
            assertNotEquals(refA, refB);
            assertEquals(refA, app.append(refA, a, 2, 3));
            assertEquals(refA, app.append(refA, null, 3, 4)); // a valid ref needs no labels
            // a wrong ref with labels resolves by labels
            assertEquals(refB, app.append(refA, b, 2, 5));
            // an unknown ref resolves by labels
            assertEquals(refB, app.append(999_999, b, 3, 6));
            app.commit();
            model.apply(a, 1, 1);
            model.apply(b, 1, 2);
            model.apply(a, 2, 3);
            model.apply(a, 3, 4);
            model.apply(b, 2, 5);
            model.apply(b, 3, 6);
            assertEquals(model.render(), TestUtil.renderStore(s));
            assertEquals(refA - 1, s.seriesRef(a));
        }
        try (StorageImpl s = StorageImpl.open(dir, opts)) {
            assertEquals(model.render(), TestUtil.renderStore(s));
            Appender app = s.appender();
            assertEquals(refA, app.append(refA, a, 10, 10)); // refs of committed series are stable across reopen
            assertEquals(refB, app.append(refB, b, 10, 10));
            app.commit();
        }
    }

    @Test
    void rollbackDiscardsAndLeavesNoEmptySeries() throws Exception {
        try (StorageImpl s = StorageImpl.open(dir, TestUtil.small().build())) {
            Appender app = s.appender();
            app.append(0, Labels.of("__name__", "gone"), 1, 1);
            assertEquals(1, app.pending());
            app.rollback();
            assertEquals(0, app.pending());
            assertEquals(0, s.stats().series());
            assertTrue(s.allPostings().isEmpty());
            assertEquals(List.of(), s.labelNames());
            app.commit(); // nothing to do
            assertEquals(0, s.stats().samples());
        }
    }

    @Test
    void manySamplesInOneCommitSpanRecordsAndChunks() throws Exception {
        Labels l = Labels.of("__name__", "big");
        try (StorageImpl s = StorageImpl.open(dir, TestUtil.small().build())) {
            Appender app = s.appender();
            long ref = 0;
            for (int i = 0; i < 20_000; i++) {
                ref = app.append(ref, l, i, i * 0.25);
            }
            for (int i = 0; i < 12_000; i++) {
                app.append(0, Labels.of("__name__", "wide", "i", Integer.toString(i)), 5, i);
            }
            app.commit();
            assertEquals(32_000, s.stats().samples());
        }
        try (StorageImpl s =
                StorageImpl.open(dir, TestUtil.small().checkpointOnClose(false).build())) {
            assertEquals(32_000, s.stats().samples());
            SampleIterator it = s.iterator(s.seriesRef(l), 100, 19_999);
            for (int i = 100; i < 20_000; i++) {
                assertTrue(it.next());
                assertEquals(i, it.timestamp());
                assertEquals(i * 0.25, it.value());
            }
            assertFalse(it.next());
            SampleIterator seek = s.iterator(s.seriesRef(l), 0, Long.MAX_VALUE);
            assertTrue(seek.seek(15_000));
            assertEquals(15_000, seek.timestamp());
            assertTrue(seek.seek(10)); // stays
            assertEquals(15_000, seek.timestamp());
            assertTrue(seek.next());
            assertEquals(15_001, seek.timestamp());
            assertFalse(seek.seek(50_000));
        }
    }

    @Test
    void readsAreACopy() throws Exception {
        try (StorageImpl s = StorageImpl.open(dir, TestUtil.small().build())) {
            s.write(new TimeSeries(Labels.of("__name__", "x", "job", "j"), List.of(new Sample(1, 1))));
            s.write(new TimeSeries(Labels.of("__name__", "y", "job", "j"), List.of(new Sample(1, 1))));
            var p = s.postings("job", "j");
            assertEquals(2, p.getCardinality());
            p.clear();
            assertEquals(2, s.postings("job", "j").getCardinality());
            assertEquals(2, s.allPostings().getCardinality());
            assertTrue(s.postings("job", "nope").isEmpty());
            assertEquals(List.of("x", "y"), s.labelValues("__name__"));
            assertEquals(List.of(), s.labelValues("nope"));
            long gen = s.seriesGeneration();
            s.write(new TimeSeries(Labels.of("__name__", "z"), List.of(new Sample(1, 1))));
            assertTrue(s.seriesGeneration() > gen);
            gen = s.seriesGeneration();
            s.write(TimeSeries.of(Labels.of("__name__", "z"), 2, 1));
            s.write(TimeSeries.of(Labels.of("__name__", "z"), new Sample(3, 1), new Sample(4, 1)));
            assertEquals(3, s.stats().series());
            assertEquals(6, s.stats().samples());
            assertEquals(gen, s.seriesGeneration());
        }
    }

    /**
     * Issue 8, point 9: an appender is AutoCloseable; close rolls back what is still buffered, and
     * every sample discarded without a commit (rollback, close, or still buffered when the store
     * closes) is counted instead of vanishing silently.
     */
    @Test
    void uncommittedSamplesAreRolledBackByCloseAndCounted() throws Exception {
        StorageOptions opts = TestUtil.small().build();
        Labels a = Labels.of("__name__", "a");
        try (StorageImpl s = StorageImpl.open(dir, opts)) {
            try (Appender app = s.appender()) {
                app.append(0, a, 1, 1);
                app.commit();
                app.append(0, a, 2, 2);
                app.append(0, a, 3, 3); // never committed
            }
            assertEquals(2, s.stats().samplesDiscarded());
            assertEquals(1, s.stats().samples());
            Appender closed = s.appender();
            closed.close();
            closed.close(); // idempotent
            org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> closed.append(0, a, 5, 5));
            Appender rolledBack = s.appender();
            rolledBack.append(0, a, 4, 4);
            rolledBack.rollback();
            assertEquals(3, s.stats().samplesDiscarded());
            s.write(new TimeSeries(a, List.of(new Sample(4, 4)))); // write() commits: nothing discarded
            assertEquals(3, s.stats().samplesDiscarded());
            Appender held = s.appender();
            held.append(0, a, 10, 10); // still buffered when the store closes
            held.append(0, Labels.of("__name__", "fresh"), 10, 10);
        }
        try (StorageImpl s = StorageImpl.open(dir, opts)) {
            assertEquals(2, s.stats().samples(), "neither the rolled-back nor the abandoned samples were written");
            assertTrue(s.seriesRef(Labels.of("__name__", "fresh")) < 0, "no empty series left behind");
        }
    }
}
