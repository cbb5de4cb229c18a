package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An embedder that codes against the {@link Storage} interface alone: write, make durable, reopen read-only. */
class StorageInterfaceTest {
    @TempDir
    Path dir;

    @Test
    void theInterfaceAloneWritesChecksPointsAndReopensReadOnly() throws Exception {
        Labels up = Labels.of("__name__", "up", "job", "node");
        try (Storage s = Storage.open(dir, TestUtil.small().build())) {
            assertFalse(s.isReadOnly());
            assertEquals(dir, s.directory());
            s.write(TimeSeries.of(up, 1_000, 1));
            s.write(List.of(TimeSeries.of(up, 2_000, 1), TimeSeries.of(up, 3_000, 0)));
            try (Appender app = s.appender()) {
                app.append(0, up, 4_000, 1);
                app.commit();
            }
            s.flush();
            s.checkpoint();
            assertEquals(4, s.stats().samples());
        }
        try (Storage s = Storage.openReadOnly(dir)) {
            assertTrue(s.isReadOnly());
            assertEquals(4, s.stats().samples());
            assertThrows(ReadOnlyStoreException.class, () -> s.write(TimeSeries.of(up, 5_000, 1)));
        }
        Storage closed = Storage.open(dir, TestUtil.small().build());
        closed.close();
        assertThrows(StoreClosedException.class, closed::appender);
    }
}
