package io.tsdb.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The writer's lock on a store directory: an OS file lock ({@code fcntl}/{@code LockFileEx}
 * through {@link FileChannel#tryLock()}) on {@code <dir>/lock}, held from open to close. The OS
 * releases it when the process dies, so a kill -9 leaves no stale lock; the file itself stays and
 * only records the holder's pid (ASCII decimal and a newline, for the error message of the next
 * writer; it carries no other meaning and no CRC). A second writer, in another process or in this
 * JVM, fails at once with {@link StoreLockedException}.
 */
final class StoreLock implements AutoCloseable {
    static final String FILE = "lock";

    private final FileChannel channel;
    private final FileLock lock;

    private StoreLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static StoreLock acquire(Path dir) throws IOException {
        Path f = dir.resolve(FILE);
        FileChannel ch =
                FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            ch.close();
            throw new StoreLockedException(
                    dir,
                    ProcessHandle.current().pid(),
                    "store " + dir
                            + " is already open for writing in this process (pid "
                            + ProcessHandle.current().pid()
                            + "); close it first, or open it with StorageImpl.openReadOnly to inspect it");
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (l == null) {
            long pid = holder(ch);
            ch.close();
            throw new StoreLockedException(
                    dir,
                    pid,
                    "store " + dir + " is in use by another writer ("
                            + (pid > 0 ? "pid " + pid : "pid unknown") + "); only one process may write a store. "
                            + "Inspect it beside the writer with StorageImpl.openReadOnly (tsdb stats / tsdb query do)");
        }
        try {
            byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
            ch.truncate(0);
            ByteBuffer b = ByteBuffer.wrap(pid);
            while (b.hasRemaining()) {
                ch.write(b, b.position());
            }
        } catch (IOException e) {
            l.release();
            ch.close();
            throw e;
        }
        return new StoreLock(ch, l);
    }

    /** The pid recorded in a lock file, or -1. */
    private static long holder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            ch.read(b, 0);
            String s = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).trim();
            return s.isEmpty() ? -1 : Long.parseLong(s);
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** Whether a store directory holds its lock file (a store file, never a user's). */
    static boolean isLockFile(Path p) {
        return p.getFileName().toString().equals(FILE) && Files.isRegularFile(p);
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
