package io.tsdb.wal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * The file operations the log uses (open, move, delete, directory fsync). All WAL file I/O goes
 * through it so that tests can inject faults (e.g. a {@link FileChannel} whose force() fails).
 */
public interface Disk {
    Disk DEFAULT = new Disk() {};

    default FileChannel open(Path path, Set<? extends OpenOption> options) throws IOException {
        return FileChannel.open(path, options);
    }

    /** Atomically renames {@code from} to {@code to}, replacing it. */
    default void moveAtomic(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    default void delete(Path path) throws IOException {
        Files.deleteIfExists(path);
    }

    /** fsyncs a directory so that creates/renames/deletes in it are durable (no-op on Windows). */
    default void syncDirectory(Path dir) throws IOException {
        if (System.getProperty("os.name", "").toLowerCase().startsWith("win")) return;
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
