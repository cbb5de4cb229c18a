package io.tsdb.testing;

import java.util.Locale;

/**
 * Seeded, replayable random tries for the property and fuzz tests (plain JUnit 5, no framework).
 *
 * <p>Every try of a check gets its own seed, derived from a base seed, the test's class and method
 * name and the try's index, so one check's failures do not depend on which other tests ran. The
 * base seed is fixed by default: CI runs the same inputs every time. System properties:
 * <ul>
 *   <li>{@code -Dtsdb.seed=N} another base seed (decimal or 0x-hex): a different, still replayable run;</li>
 *   <li>{@code -Dtsdb.replay=S} run only the try whose seed is S (printed in every failure), once,
 *       in whichever checks are selected (use with {@code -Dtest=Class#method});</li>
 *   <li>{@code -Dtsdb.tries=N} multiply every property's tries by N (default 1; 10 with {@code -Dtsdb.long=true});</li>
 *   <li>{@code -Dtsdb.fuzz.tries=N} tries of each fuzz check (default: its own small number; 20x with {@code tsdb.long}).</li>
 * </ul>
 */
public final class Seeds {
    /** The base seed when {@code tsdb.seed} is not set. */
    public static final long DEFAULT_BASE = 0x75DB_2026_1208_0001L;

    private Seeds() {}

    /** One try: gets a generator seeded for it. */
    @FunctionalInterface
    public interface Try {
        void run(Gen g) throws Throwable;
    }

    public static long base() {
        String s = System.getProperty("tsdb.seed");
        return s == null || s.isBlank() ? DEFAULT_BASE : parse(s);
    }

    static long parse(String s) {
        s = s.trim().toLowerCase(Locale.ROOT);
        if (s.startsWith("0x")) {
            return Long.parseUnsignedLong(s.substring(2), 16);
        }
        if (s.startsWith("-0x")) {
            return -Long.parseUnsignedLong(s.substring(3), 16);
        }
        return Long.parseLong(s);
    }

    static boolean longRun() {
        return Boolean.getBoolean("tsdb.long");
    }

    /** {@code n} scaled by {@code tsdb.tries} (or 10 in the long profile). */
    public static int tries(int n) {
        int m = Integer.getInteger("tsdb.tries", longRun() ? 10 : 1);
        return (int) Math.min(Integer.MAX_VALUE, (long) n * Math.max(1, m));
    }

    /** Tries of a fuzz check: {@code tsdb.fuzz.tries} if set, else {@code n} (20x in the long profile). */
    public static int fuzzTries(int n) {
        Integer fixed = Integer.getInteger("tsdb.fuzz.tries");
        if (fixed != null) {
            return Math.max(1, fixed);
        }
        return longRun() ? n * 20 : n;
    }

    /** The seed of try {@code i} of check {@code name} (SplitMix64 of the mixed inputs). */
    public static long seedOf(long base, String name, int i) {
        long z = base ^ (name.hashCode() * 0x9E3779B97F4A7C15L) ^ ((long) i * 0xC2B2AE3D27D4EB4FL);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Runs {@code tries} (scaled by {@link #tries}) tries of the calling test method; a failing try
     * fails the test with its index and seed and the command line that replays it.
     */
    public static void check(int tries, Try body) {
        run(callerName(1), tries(tries), body);
    }

    /** As {@link #check} for a check named {@code name} with an exact number of tries (e.g. {@link #fuzzTries}). */
    public static void checkNamed(String name, int tries, Try body) {
        run(name, tries, body);
    }

    /** "Class#method" of the method {@code skip} frames above the caller of this method. */
    public static String callerName(int skip) {
        return StackWalker.getInstance()
                .walk(s -> s.skip(1 + skip).findFirst())
                .map(f -> f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1) + "#" + f.getMethodName())
                .orElse("?");
    }

    private static void run(String name, int tries, Try body) {
        String replay = System.getProperty("tsdb.replay");
        if (replay != null && !replay.isBlank()) {
            runOne(name, 0, 1, parse(replay), body);
            return;
        }
        long base = base();
        for (int i = 0; i < tries; i++) {
            runOne(name, i, tries, seedOf(base, name, i), body);
        }
    }

    private static void runOne(String name, int i, int tries, long seed, Try body) {
        try {
            body.run(new Gen(seed));
        } catch (Throwable t) {
            if (t instanceof VirtualMachineError
                    && !(t instanceof OutOfMemoryError)
                    && !(t instanceof StackOverflowError)) {
                throw (VirtualMachineError) t;
            }
            throw new AssertionError(
                    name + " failed at try " + i + " of " + tries + ", seed " + hex(seed) + " (replay: -Dtest='" + name
                            + "' -Dtsdb.replay=" + hex(seed) + "): " + t,
                    t);
        }
    }

    public static String hex(long seed) {
        return "0x" + Long.toHexString(seed);
    }
}
