package io.tsdb.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Modifier;
import java.util.List;

/**
 * The three roots of the project's exceptions (docs/durability.md, "Exceptions"): I/O-caused
 * failures are {@link IOException}s, input rejections {@link IllegalArgumentException}s, calls on
 * a closed or read-only object {@link IllegalStateException}s.
 */
public final class ExceptionRoots {
    public static final List<Class<? extends Exception>> ALL =
            List.of(IOException.class, IllegalArgumentException.class, IllegalStateException.class);

    private ExceptionRoots() {}

    /** Asserts that {@code c} is public (embedders catch it) and under exactly {@code root} of the three. */
    public static void assertExactlyUnder(Class<?> c, Class<?> root) {
        assertTrue(Modifier.isPublic(c.getModifiers()), c + " is public: embedders catch it");
        for (Class<?> r : ALL) {
            assertEquals(r == root, r.isAssignableFrom(c), c.getSimpleName() + " under " + r.getSimpleName());
        }
    }
}
