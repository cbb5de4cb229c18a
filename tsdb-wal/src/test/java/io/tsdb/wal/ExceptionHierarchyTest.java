package io.tsdb.wal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pins the root of every exception of the log (docs/durability.md, "Exceptions"): I/O-caused
 * failures are {@link WalException}s and so {@link IOException}s; an input that is too big is an
 * {@link IllegalArgumentException}; a call on a closed or read-only log is an
 * {@link IllegalStateException}. Exactly one of the three roots applies to each.
 */
class ExceptionHierarchyTest {
    @TempDir
    Path dir;

    /** Each exception class and the root it must have. */
    static final Map<Class<? extends Exception>, Class<? extends Exception>> ROOTS = Map.ofEntries(
            Map.entry(WalException.class, IOException.class),
            Map.entry(StorageFullException.class, IOException.class),
            Map.entry(DurabilityException.class, IOException.class),
            Map.entry(ShardFailedException.class, IOException.class),
            Map.entry(WalBackpressureException.class, IOException.class),
            Map.entry(WalCorruptionException.class, IOException.class),
            Map.entry(CorruptBlockException.class, IOException.class),
            Map.entry(RecordTooLargeException.class, IllegalArgumentException.class),
            Map.entry(WalClosedException.class, IllegalStateException.class),
            Map.entry(WalReadOnlyException.class, IllegalStateException.class));

    @Test
    void everyExceptionHasExactlyItsRoot() {
        for (Map.Entry<Class<? extends Exception>, Class<? extends Exception>> e : ROOTS.entrySet()) {
            Class<?> c = e.getKey();
            io.tsdb.testing.ExceptionRoots.assertExactlyUnder(c, e.getValue());
            // the I/O-caused ones share the log's root; the others are not WalExceptions
            assertEquals(e.getValue() == IOException.class, WalException.class.isAssignableFrom(c), c.getSimpleName());
            assertEquals(
                    e.getValue() != IOException.class, RuntimeException.class.isAssignableFrom(c), c.getSimpleName());
        }
    }

    @Test
    void thrownExceptionsCarryTheirRoot() throws Exception {
        ShardedWAL wal = ShardedWAL.open(
                dir, WalOptions.builder().shards(1).maxRecordBytes(100).build());
        IllegalArgumentException tooBig =
                assertThrows(IllegalArgumentException.class, () -> wal.append(1, ByteBuffer.allocate(101), 0));
        assertInstanceOf(RecordTooLargeException.class, tooBig);
        wal.append(1, ByteBuffer.allocate(4), 0);
        wal.close();
        IllegalStateException closed =
                assertThrows(IllegalStateException.class, () -> wal.append(1, ByteBuffer.allocate(4), 0));
        assertInstanceOf(WalClosedException.class, closed);

        try (ShardedWAL ro =
                ShardedWAL.open(dir, WalOptions.builder().readOnly(true).build())) {
            IllegalStateException readOnly =
                    assertThrows(IllegalStateException.class, () -> ro.append(1, ByteBuffer.allocate(4), 0));
            assertInstanceOf(WalReadOnlyException.class, readOnly);
        }
    }
}
