package io.tsdb.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;

/**
 * Mutational fuzzing of decoders, seeded and replayable through {@link Seeds}: start from a valid
 * encoding, damage it (bit flips, byte and int overwrites with hostile values, truncation,
 * extension, splices, deletions), optionally repair its checksum so the damage reaches past the
 * CRC (LevelDB's {@code FixChecksum}), and decode it under a time limit. The decoder may fail only
 * with the exceptions its contract documents; anything else (an undocumented exception,
 * {@link OutOfMemoryError}, {@link StackOverflowError}, a hang) fails the test, names the seed
 * and writes the input to {@code target/fuzz-failures/<decoder>/} for the regression corpus
 * ({@code src/test/resources/fuzz-corpus/<decoder>/}, replayed by {@link #corpus}).
 */
public final class Fuzz {
    /** Time one decode may take before it counts as a hang. */
    public static final Duration PER_INPUT = Duration.ofSeconds(2);

    private static final int[] HOSTILE_INTS = {
        0,
        1,
        -1,
        Integer.MAX_VALUE,
        Integer.MIN_VALUE,
        Integer.MAX_VALUE - 1,
        0x7FFFFFF0,
        0x80000000 + 1,
        0xFFFF,
        0x10000,
        1 << 24,
        1 << 30,
        128 << 20,
        (128 << 20) + 1
    };

    private Fuzz() {}

    /** Decodes one input; throwing one of the allowed exceptions is a pass. */
    @FunctionalInterface
    public interface Decoder {
        void decode(byte[] input) throws Throwable;
    }

    /** Writes the big-endian CRC32C of {@code b[from, crcAt)} at {@code crcAt} (the checksum layout of every tsdb file). */
    public static void putCrc32c(byte[] b, int from, int crcAt) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b, from, crcAt - from);
        int v = (int) crc.getValue();
        b[crcAt] = (byte) (v >>> 24);
        b[crcAt + 1] = (byte) (v >>> 16);
        b[crcAt + 2] = (byte) (v >>> 8);
        b[crcAt + 3] = (byte) v;
    }

    /** A temporary directory, on tmpfs ({@code /dev/shm}) when there is one: decoders that repair files fsync. */
    public static Path tempDir(String prefix) throws IOException {
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm) && Files.isWritable(shm)) {
            return Files.createTempDirectory(shm, prefix);
        }
        return Files.createTempDirectory(prefix);
    }

    /** Deletes a directory tree (best effort). */
    public static void deleteTree(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }

    /** Applies 1 to 4 random mutations to a copy of {@code valid}. */
    public static byte[] mutate(byte[] valid, Gen g) {
        byte[] b = valid.clone();
        int edits = 1 + g.nextInt(g.nextInt(4) == 0 ? 8 : 3);
        for (int e = 0; e < edits; e++) {
            b = mutateOnce(b, g);
        }
        return b;
    }

    static byte[] mutateOnce(byte[] b, Gen g) {
        int n = b.length;
        switch (g.nextInt(10)) {
            case 0, 1 -> { // flip one bit
                if (n > 0) {
                    int bit = g.nextInt(n * 8);
                    b[bit >>> 3] ^= (byte) (1 << (bit & 7));
                }
            }
            case 2 -> { // overwrite a byte with a random or boundary value
                if (n > 0) {
                    b[g.nextInt(n)] = (byte) (int) g.oneOf(0, 0xFF, 0x7F, 0x80, 0x01, g.nextInt(256));
                }
            }
            case 3 -> { // a length/count field set to a huge, negative or boundary value (big-endian)
                if (n >= 4) {
                    int at = g.nextInt(n - 3);
                    int v = g.nextBoolean() ? HOSTILE_INTS[g.nextInt(HOSTILE_INTS.length)] : g.nextInt();
                    b[at] = (byte) (v >>> 24);
                    b[at + 1] = (byte) (v >>> 16);
                    b[at + 2] = (byte) (v >>> 8);
                    b[at + 3] = (byte) v;
                }
            }
            case 4 -> { // a varint set to a long run of continuation bytes or a huge value
                if (n > 0) {
                    int at = g.nextInt(n);
                    int len = Math.min(n - at, 1 + g.nextInt(11));
                    for (int i = 0; i < len; i++) {
                        b[at + i] = (byte) (i == len - 1 && g.nextBoolean() ? g.nextInt(128) : 0x80 | g.nextInt(128));
                    }
                }
            }
            case 5 -> { // truncate
                return Arrays.copyOf(b, n == 0 ? 0 : g.nextInt(n));
            }
            case 6 -> { // extend with zeros, 0xFF or random bytes
                byte[] tail = new byte[1 + g.nextInt(g.nextBoolean() ? 8 : 300)];
                switch (g.nextInt(3)) {
                    case 0 -> {}
                    case 1 -> Arrays.fill(tail, (byte) 0xFF);
                    default -> g.nextBytes(tail);
                }
                byte[] out = Arrays.copyOf(b, n + tail.length);
                System.arraycopy(tail, 0, out, n, tail.length);
                return out;
            }
            case 7 -> { // splice: copy a range of the input over another place of it
                if (n > 1) {
                    int from = g.nextInt(n);
                    int to = g.nextInt(n);
                    int len = 1 + g.nextInt(Math.min(n - from, n - to));
                    System.arraycopy(b.clone(), from, b, to, len);
                }
            }
            case 8 -> { // insert a duplicate of a range (repeated records, nested structure)
                if (n > 0) {
                    int from = g.nextInt(n);
                    int len = 1 + g.nextInt(Math.min(n - from, 64));
                    int at = g.nextInt(n + 1);
                    byte[] out = new byte[n + len];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(b, from, out, at, len);
                    System.arraycopy(b, at, out, at + len, n - at);
                    return out;
                }
            }
            default -> { // delete a range
                if (n > 1) {
                    int at = g.nextInt(n);
                    int len = 1 + g.nextInt(Math.min(n - at, 32));
                    byte[] out = new byte[n - len];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(b, at + len, out, at, n - at - len);
                    return out;
                }
            }
        }
        return b;
    }

    /**
     * The fuzz loop of the calling test: {@link Seeds#fuzzTries}({@code tries}) inputs, each a
     * mutation of {@code valid.apply(g)}; with probability 3/4 {@code fixChecksum} (if not null)
     * repairs the checksum after the mutation.
     */
    public static void run(
            String decoder,
            int tries,
            Function<Gen, byte[]> valid,
            UnaryOperator<byte[]> fixChecksum,
            Decoder d,
            List<Class<? extends Throwable>> allowed) {
        Seeds.checkNamed(Seeds.callerName(1), Seeds.fuzzTries(tries), g -> {
            // the generator and the checksum fixer are bounded too: a fixer walking a damaged structure must not spin
            byte[] in = assertTimeoutPreemptively(
                    PER_INPUT,
                    () -> {
                        byte[] b = mutate(valid.apply(g), g);
                        return fixChecksum != null && g.nextInt(4) != 0 ? fixChecksum.apply(b) : b;
                    },
                    () -> decoder + ": generating or repairing the input took over " + PER_INPUT.toMillis() + " ms");
            decodeOnce(decoder, in, d, allowed);
        });
    }

    /** Decodes {@code in} under {@link #PER_INPUT}; fails on anything but an allowed exception, saving the input. */
    public static void decodeOnce(String decoder, byte[] in, Decoder d, List<Class<? extends Throwable>> allowed) {
        try {
            assertTimeoutPreemptively(
                    PER_INPUT,
                    () -> {
                        try {
                            d.decode(in);
                        } catch (Throwable t) {
                            for (Class<? extends Throwable> a : allowed) {
                                if (a.isInstance(t)) {
                                    return null;
                                }
                            }
                            throw new AssertionError("undocumented " + t, t);
                        }
                        return null;
                    },
                    () -> decoder + " took over " + PER_INPUT.toMillis() + " ms");
        } catch (Throwable t) {
            Path saved = save(decoder, in);
            String hex = in.length <= 256
                    ? HexFormat.of().formatHex(in)
                    : HexFormat.of().formatHex(in, 0, 256) + "...";
            throw new AssertionError(
                    decoder + " failed on a " + in.length + "-byte input (saved to " + saved + "): " + hex + ": "
                            + t.getMessage(),
                    t);
        }
    }

    private static Path save(String decoder, byte[] in) {
        try {
            Path dir = Path.of("target", "fuzz-failures", decoder);
            Files.createDirectories(dir);
            Path f = dir.resolve(String.format("%016x.bin", Arrays.hashCode(in) & 0xFFFFFFFFL));
            Files.write(f, in);
            return f.toAbsolutePath();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * One dynamic test per file of the test resource folder {@code fuzz-corpus/<decoder>/} (not its
     * {@code open/} subfolder: known, unfixed failures): each is decoded as in {@link #run}. Fails
     * if the folder is empty.
     */
    public static Stream<DynamicTest> corpus(
            Class<?> owner, String decoder, Decoder d, List<Class<? extends Throwable>> allowed) {
        List<Path> files = corpusFiles(owner, decoder);
        assertFalse(files.isEmpty(), "empty fuzz corpus " + decoder);
        return files.stream()
                .map(f -> DynamicTest.dynamicTest(decoder + "/" + f.getFileName(), () -> {
                    decodeOnce(decoder, Files.readAllBytes(f), d, allowed);
                }));
    }

    /** The files of {@code fuzz-corpus/<decoder>/} on the test class path, sorted by name. */
    public static List<Path> corpusFiles(Class<?> owner, String decoder) {
        URL url = owner.getClassLoader().getResource("fuzz-corpus/" + decoder);
        if (url == null) {
            throw new AssertionError("no test resource folder fuzz-corpus/" + decoder);
        }
        try (Stream<Path> s = Files.list(Path.of(url.toURI()))) {
            return s.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
