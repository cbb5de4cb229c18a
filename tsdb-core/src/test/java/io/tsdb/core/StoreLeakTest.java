package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.ref.WeakReference;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A closed store is garbage: nothing (thread locals, threads, pools) keeps its head alive. */
class StoreLeakTest {
    @TempDir
    Path dir;

    @Test
    void closedStoreIsCollectable() throws Exception {
        WeakReference<StorageImpl> ref = openWriteClose();
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertNull(ref.get(), "a closed store is still reachable");
    }

    private WeakReference<StorageImpl> openWriteClose() throws Exception {
        StorageImpl s = StorageImpl.open(
                dir, TestUtil.small().retention(java.time.Duration.ofDays(1)).build());
        s.write(new TimeSeries(Labels.of("__name__", "x"), List.of(new Sample(1, 1))));
        Appender app = s.appender();
        app.append(0, Labels.of("__name__", "y"), 1, 1);
        app.commit();
        s.close();
        return new WeakReference<>(s);
    }
}
