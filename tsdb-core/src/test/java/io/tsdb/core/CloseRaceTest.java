package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RELIABILITY.md 2.12: close() twice while writers are in flight. */
class CloseRaceTest {
    @TempDir
    Path dir;

    @Test
    void closeTwiceWhileWritingNeverDeadlocksAndLosesNothingAcknowledged() throws Exception {
        StorageOptions opts = TestUtil.small().build();
        int writers = 8;
        AtomicLongArray acked = new AtomicLongArray(writers);
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        StorageImpl store = StorageImpl.open(dir, opts);
        CountDownLatch running = new CountDownLatch(writers);
        Thread[] ts = new Thread[writers];
        for (int w = 0; w < writers; w++) {
            final int writer = w;
            ts[w] = new Thread(() -> {
                Labels l = Labels.of("__name__", "race", "w", Integer.toString(writer));
                try {
                    for (long i = 1; ; i++) {
                        if (writer % 2 == 0) {
                            store.write(new TimeSeries(l, List.of(new Sample(i, i))));
                        } else {
                            Appender app = store.appender();
                            app.append(0, l, i, i);
                            app.commit();
                        }
                        acked.set(writer, i);
                        if (i == 20) {
                            running.countDown();
                        }
                    }
                } catch (StoreClosedException expected) {
                    // fine: the store closed under us
                } catch (Throwable t) {
                    unexpected.compareAndSet(null, t);
                } finally {
                    running.countDown();
                }
            });
            ts[w].start();
        }
        running.await();
        Thread closer = new Thread(() -> {
            try {
                store.close();
            } catch (Throwable t) {
                unexpected.compareAndSet(null, t);
            }
        });
        closer.start();
        store.close();
        closer.join(TimeUnit.SECONDS.toMillis(30));
        for (Thread t : ts) {
            t.join(TimeUnit.SECONDS.toMillis(30));
            assertTrue(!t.isAlive(), "writer still running: deadlock?");
        }
        assertTrue(!closer.isAlive());
        assertNull(unexpected.get(), () -> String.valueOf(unexpected.get()));
        try (StorageImpl s = StorageImpl.open(dir, opts)) {
            for (int w = 0; w < writers; w++) {
                int ref = s.seriesRef(Labels.of("__name__", "race", "w", Integer.toString(w)));
                SampleIterator it = s.iterator(ref, 0, Long.MAX_VALUE);
                long n = 0;
                while (it.next()) {
                    n++;
                    assertEquals(n, it.timestamp());
                }
                assertTrue(n >= acked.get(w), "writer " + w + ": acknowledged " + acked.get(w) + ", recovered " + n);
                assertTrue(n <= acked.get(w) + 1, "phantom samples for writer " + w);
            }
        }
    }
}
