package io.tsdb.wal;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Set;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.util.Native;

/**
 * Picks the LZ4 implementation of {@link BlockCodec} without leaving a native library behind.
 *
 * <p><b>Why.</b> {@code LZ4Factory.fastestInstance()} makes lz4-java (1.10.1) extract
 * {@code liblz4-java-<random>.so} (~200 KiB) into {@code java.io.tmpdir} on every JVM start and
 * delete it (and its {@code .lck}) only through {@code deleteOnExit}: a JVM killed with
 * {@code kill -9} leaves both, and lz4-java's own clean-up skips a library whose {@code .lck} is
 * still there, so a process that is killed often fills {@code /tmp}. No lz4-java property turns
 * the extraction off ({@code lz4java.jnilib.temp.keep} only keeps the copy for good). The pure-Java
 * instance extracts nothing but compresses ~2.5x and decompresses ~4x slower (docs/dependencies.md),
 * which replay would feel.
 *
 * <p><b>What.</b> One copy per user and library build is extracted into
 * {@code <java.io.tmpdir>/tsdb-lz4-java-<user>/} (created {@code rwx------}; used only if owned
 * by this user with no group or other access), under a name holding the SHA-256 of the library,
 * through a temp file and an atomic rename, and reused by every later JVM after its hash was
 * checked. It is loaded with {@link System#load} and lz4-java is told it is loaded, so its
 * {@code Native.load()} extracts nothing. Anything that does not work out (no POSIX file system,
 * no library for this platform, {@code noexec} temp directory, another class loader, an lz4-java
 * whose internals changed) falls back to the pure-Java instance: nothing is extracted then either.
 *
 * <p>System property {@value #PROPERTY}: {@code native} (default: as above) or {@code java}
 * (always the pure-Java instance, e.g. for tools that must write nothing at all).
 */
final class Lz4Loader {
    static final String PROPERTY = "tsdb.wal.lz4";
    static final String DIR_PREFIX = "tsdb-lz4-java-";

    /** The factory in use and why (for diagnostics and tests). */
    record Choice(LZ4Factory factory, String reason) {}

    private Lz4Loader() {}

    static Choice choose() {
        String mode = System.getProperty(PROPERTY, "native").trim().toLowerCase(Locale.ROOT);
        if (mode.equals("java")) return new Choice(LZ4Factory.fastestJavaInstance(), PROPERTY + "=java");
        if (!mode.equals("native"))
            return new Choice(LZ4Factory.fastestJavaInstance(), "unknown " + PROPERTY + "=" + mode + ": pure Java");
        try {
            if (Native.isLoaded())
                return new Choice(LZ4Factory.nativeInstance(), "lz4-java had loaded its library already");
            Path lib = stableCopy();
            if (Native.class.getClassLoader() != Lz4Loader.class.getClassLoader())
                return new Choice(LZ4Factory.fastestJavaInstance(), "lz4-java is in another class loader: pure Java");
            synchronized (Native.class) { // Native.load() is static synchronized
                if (!Native.isLoaded()) {
                    Field loaded = Native.class.getDeclaredField("loaded");
                    if (loaded.getType() != boolean.class)
                        throw new NoSuchFieldException("Native.loaded is not a boolean");
                    loaded.setAccessible(true);
                    System.load(lib.toString());
                    loaded.setBoolean(null, true);
                }
            }
            return new Choice(LZ4Factory.nativeInstance(), "native, from " + lib);
        } catch (Throwable t) { // LinkageError (noexec, wrong platform), reflection, I/O: never fatal
            return new Choice(LZ4Factory.fastestJavaInstance(), "native library not usable (" + t + "): pure Java");
        }
    }

    /** lz4-java's resource for this platform (its {@code Native.resourceName()}), or null. */
    static String resourceName() {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (os.contains("Linux")) return "/net/jpountz/util/linux/" + arch + "/liblz4-java.so";
        if (os.contains("Mac")) return "/net/jpountz/util/darwin/" + arch + "/liblz4-java.dylib";
        return null;
    }

    /** Extracts the library once per user and build; returns the verified copy. */
    static Path stableCopy() throws IOException {
        String res = resourceName();
        if (res == null) throw new IOException("no native LZ4 for " + System.getProperty("os.name"));
        byte[] bytes;
        try (InputStream in = Native.class.getResourceAsStream(res)) {
            if (in == null) throw new IOException("lz4-java has no " + res);
            bytes = in.readAllBytes();
        }
        String hash = sha256(bytes);
        Path dir = privateDir();
        Path lib = dir.resolve("lz4-java-" + hash.substring(0, 32) + res.substring(res.lastIndexOf('.')));
        if (Files.isRegularFile(lib, LinkOption.NOFOLLOW_LINKS)
                && Files.size(lib) == bytes.length
                && sha256(Files.readAllBytes(lib)).equals(hash)) {
            return lib;
        }
        Path tmp = Files.createTempFile(dir, "lz4-java-", ".tmp");
        try {
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, lib, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return lib;
    }

    /** {@code <tmpdir>/tsdb-lz4-java-<user>}, created rwx------; refused unless this user alone can write to it. */
    private static Path privateDir() throws IOException {
        Path root = Path.of(System.getProperty("java.io.tmpdir"));
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
        Path dir = root.resolve(DIR_PREFIX + user);
        if (Files.getFileAttributeView(root, PosixFileAttributeView.class) == null)
            throw new IOException("not a POSIX file system: " + root);
        try {
            Files.createDirectory(
                    dir,
                    PosixFilePermissions.asFileAttribute(EnumSet.of(
                            PosixFilePermission.OWNER_READ,
                            PosixFilePermission.OWNER_WRITE,
                            PosixFilePermission.OWNER_EXECUTE)));
        } catch (FileAlreadyExistsException e) {
            // checked below
        }
        PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        Set<PosixFilePermission> others = EnumSet.of(PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);
        Path probe = Files.createTempFile(dir, "owner-", ".tmp");
        try {
            if (!a.isDirectory() || !a.owner().equals(Files.getOwner(probe)))
                throw new IOException(dir + " is not a directory of this user");
        } finally {
            Files.deleteIfExists(probe);
        }
        for (PosixFilePermission p : a.permissions())
            if (others.contains(p)) throw new IOException(dir + " is writable by others: " + a.permissions());
        return dir;
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
