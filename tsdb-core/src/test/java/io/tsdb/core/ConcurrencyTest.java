package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConcurrencyTest {
    @TempDir
    Path dir;

    static final int WRITERS = 4;
    static final int SERIES_PER_WRITER = 25;

    static Labels labels(int writer, int i) {
        return Labels.of("__name__", "m", "writer", Integer.toString(writer), "i", Integer.toString(i));
    }

    static double value(int writer, int scrape) {
        return scrape % 7 == 0 ? Double.NaN : scrape * 1000.0 + writer;
    }

    /** Writers scrape their own series; scrapes[w] = scrapes acknowledged by writer w. */
    static Thread[] startWriters(
            StorageImpl store,
            int scrapes,
            AtomicLongArray acked,
            AtomicBoolean stop,
            AtomicReference<Throwable> error,
            CountDownLatch started) {
        Thread[] threads = new Thread[WRITERS];
        for (int w = 0; w < WRITERS; w++) {
            final int writer = w;
            threads[w] = new Thread(() -> {
                try {
                    Appender app = store.appender();
                    long[] refs = new long[SERIES_PER_WRITER];
                    Labels[] ls = new Labels[SERIES_PER_WRITER];
                    for (int i = 0; i < SERIES_PER_WRITER; i++) {
                        ls[i] = labels(writer, i);
                    }
                    started.countDown();
                    for (int s = 1; s <= scrapes && !stop.get(); s++) {
                        for (int i = 0; i < SERIES_PER_WRITER; i++) {
                            refs[i] = app.append(refs[i], ls[i], s * 15_000L, value(writer, s));
                        }
                        app.commit();
                        acked.set(writer, s);
                    }
                } catch (Throwable t) {
                    error.compareAndSet(null, t);
                }
            });
            threads[w].start();
        }
        return threads;
    }

    static Map<Labels, List<long[]>> expected(long[] scrapes) {
        Map<Labels, List<long[]>> m = new TreeMap<>();
        for (int w = 0; w < WRITERS; w++) {
            for (int i = 0; i < SERIES_PER_WRITER; i++) {
                List<long[]> l = new ArrayList<>();
                for (int s = 1; s <= scrapes[w]; s++) {
                    l.add(new long[] {s * 15_000L, Double.doubleToRawLongBits(value(w, s))});
                }
                m.put(labels(w, i), l);
            }
        }
        return m;
    }

    @Test
    void concurrentWritersThenReopenEqualsModel() throws Exception {
        StorageOptions opts = TestUtil.small().build();
        AtomicLongArray acked = new AtomicLongArray(WRITERS);
        AtomicReference<Throwable> error = new AtomicReference<>();
        String live;
        try (StorageImpl store = StorageImpl.open(dir, opts)) {
            // a reader thread iterates concurrently and must always see ascending timestamps
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch started = new CountDownLatch(WRITERS);
            Thread[] ws = startWriters(store, 300, acked, new AtomicBoolean(), error, started);
            AtomicInteger reads = new AtomicInteger();
            Thread reader = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        for (int ref : store.allPostings()) {
                            SampleIterator it = store.iterator(ref, Long.MIN_VALUE, Long.MAX_VALUE);
                            long prev = Long.MIN_VALUE;
                            while (it.next()) {
                                assertTrue(it.timestamp() > prev);
                                prev = it.timestamp();
                            }
                            reads.incrementAndGet();
                        }
                        store.postings("writer", "1");
                        store.labelValues("i");
                        store.stats();
                    }
                } catch (Throwable t) {
                    error.compareAndSet(null, t);
                }
            });
            reader.start();
            for (Thread t : ws) {
                t.join();
            }
            stop.set(true);
            reader.join();
            assertNull(error.get(), () -> String.valueOf(error.get()));
            live = TestUtil.renderStore(store);
            long[] n = new long[WRITERS];
            for (int w = 0; w < WRITERS; w++) {
                n[w] = acked.get(w);
                assertEquals(300, n[w]);
            }
            assertEquals(TestUtil.render(expected(n)), live);
            assertEquals(WRITERS * SERIES_PER_WRITER, store.stats().series());
            assertEquals(WRITERS * SERIES_PER_WRITER * 300L, store.stats().samples());
        }
        try (StorageImpl store = StorageImpl.open(dir, opts)) {
            assertEquals(live, TestUtil.renderStore(store));
        }
        try (StorageImpl store =
                StorageImpl.open(dir, opts.toBuilder().checkpointOnClose(false).build())) {
            assertEquals(live, TestUtil.renderStore(store));
        }
    }

    /** Copy the directory while writers run (after flush, without close): the copy holds every acknowledged sample. */
    @Test
    void crashCopyHoldsEveryAcknowledgedSample() throws Exception {
        StorageOptions opts = TestUtil.small().checkpointOnClose(false).build();
        AtomicLongArray acked = new AtomicLongArray(WRITERS);
        AtomicReference<Throwable> error = new AtomicReference<>();
        AtomicBoolean stop = new AtomicBoolean();
        Path copy = dir.resolveSibling(dir.getFileName() + "-copy");
        long[] ackedAtCopy = new long[WRITERS];
        try (StorageImpl store = StorageImpl.open(dir.resolve("store"), opts)) {
            CountDownLatch started = new CountDownLatch(WRITERS);
            Thread[] ws = startWriters(store, 100_000, acked, stop, error, started);
            started.await();
            for (int w = 0; w < WRITERS; w++) {
                while (acked.get(w) < 20 && error.get() == null) {
                    Thread.onSpinWait();
                }
            }
            for (int w = 0; w < WRITERS; w++) {
                ackedAtCopy[w] = acked.get(w);
            }
            store.flush();
            TestUtil.copyRecursively(dir.resolve("store"), copy);
            stop.set(true);
            for (Thread t : ws) {
                t.join();
            }
            assertNull(error.get(), () -> String.valueOf(error.get()));
        }
        try (StorageImpl store = StorageImpl.open(copy, opts)) {
            Map<Labels, List<long[]>> got = TestUtil.dump(store);
            Map<Labels, List<long[]>> mustHave = expected(ackedAtCopy);
            long[] attempted = new long[WRITERS];
            for (int w = 0; w < WRITERS; w++) {
                attempted[w] = acked.get(w) + 1;
            }
            Map<Labels, List<long[]>> mayHave = expected(attempted);
            for (Map.Entry<Labels, List<long[]>> e : mustHave.entrySet()) {
                List<long[]> g = got.getOrDefault(e.getKey(), List.of());
                assertTrue(!g.isEmpty() || e.getValue().isEmpty(), "series lost: " + e.getKey());
                List<String> gs = g.stream().map(x -> x[0] + "=" + x[1]).toList();
                List<String> must =
                        e.getValue().stream().map(x -> x[0] + "=" + x[1]).toList();
                List<String> may = mayHave.get(e.getKey()).stream()
                        .map(x -> x[0] + "=" + x[1])
                        .toList();
                assertTrue(gs.containsAll(must), "acknowledged samples lost in " + e.getKey());
                assertTrue(may.containsAll(gs), "phantom samples in " + e.getKey());
            }
            assertEquals(0, store.stats().replay().unknownRefSamples());
        } finally {
            TestUtil.deleteRecursively(copy);
        }
    }
}
