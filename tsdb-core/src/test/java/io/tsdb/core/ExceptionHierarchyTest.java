package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Modifier;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Pins the root of every exception of the engine (docs/bad-input.md, "Exceptions"): input
 * rejections are {@link IllegalArgumentException}s, calls on a closed or read-only store
 * {@link IllegalStateException}s, I/O-caused failures {@link IOException}s. The WAL's own
 * exceptions, which the store's write calls pass on, are pinned by tsdb-wal's test of the same name.
 */
class ExceptionHierarchyTest {
    static final Map<Class<? extends Exception>, Class<? extends Exception>> ROOTS = Map.ofEntries(
            Map.entry(InvalidLabelsException.class, IllegalArgumentException.class),
            Map.entry(LimitExceededException.class, IllegalArgumentException.class),
            Map.entry(SampleRejectedException.class, IllegalArgumentException.class),
            Map.entry(OutOfOrderSampleException.class, IllegalArgumentException.class),
            Map.entry(DuplicateSampleException.class, IllegalArgumentException.class),
            Map.entry(OutOfBoundsException.class, IllegalArgumentException.class),
            Map.entry(PartialWriteException.class, IllegalArgumentException.class),
            Map.entry(StoreClosedException.class, IllegalStateException.class),
            Map.entry(ReadOnlyStoreException.class, IllegalStateException.class),
            Map.entry(StoreLockedException.class, IOException.class));

    @Test
    void everyPublicExceptionHasExactlyItsRoot() {
        for (Map.Entry<Class<? extends Exception>, Class<? extends Exception>> e : ROOTS.entrySet()) {
            Class<?> c = e.getKey();
            io.tsdb.testing.ExceptionRoots.assertExactlyUnder(c, e.getValue());
        }
    }

    @Test
    void corruptRecordExceptionStaysInsideThePackage() {
        // decoding damage is counted (replay) or reported (checkpoint load), never thrown to a caller
        Class<?> c = CorruptRecordException.class;
        assertFalse(Modifier.isPublic(c.getModifiers()), "CorruptRecordException is internal");
        assertTrue(Modifier.isFinal(c.getModifiers()));
        assertTrue(RuntimeException.class.isAssignableFrom(c));
    }
}
