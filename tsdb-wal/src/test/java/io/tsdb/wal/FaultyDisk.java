package io.tsdb.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fault-injecting file layer: counts fsyncs, can make the n-th force() / write() throw, or
 * skip fsyncs altogether (fast tests that do not test durability).
 */
final class FaultyDisk implements Disk {
    final AtomicLong forces = new AtomicLong();
    final AtomicLong writes = new AtomicLong();
    /** force() number (1-based, counted from arming) that throws; 0 = never. */
    final AtomicInteger failForceAt = new AtomicInteger();
    final AtomicInteger failWriteAt = new AtomicInteger();
    private final AtomicInteger forcesSinceArm = new AtomicInteger();
    private final AtomicInteger writesSinceArm = new AtomicInteger();
    volatile boolean skipSync;

    static FaultyDisk noSync() {
        FaultyDisk d = new FaultyDisk();
        d.skipSync = true;
        return d;
    }

    void failNthForce(int n) {
        forcesSinceArm.set(0);
        failForceAt.set(n);
    }

    void failNthWrite(int n) {
        writesSinceArm.set(0);
        failWriteAt.set(n);
    }

    @Override
    public FileChannel open(Path path, Set<? extends OpenOption> options) throws IOException {
        return new Forwarding(FileChannel.open(path, options), path);
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        if (!skipSync) Disk.super.syncDirectory(dir);
    }

    private final class Forwarding extends FileChannel {
        private final FileChannel d;
        private final Path path;

        Forwarding(FileChannel d, Path path) {
            this.d = d;
            this.path = path;
        }

        private void beforeWrite() throws IOException {
            writes.incrementAndGet();
            int at = failWriteAt.get();
            if (at > 0 && writesSinceArm.incrementAndGet() == at) {
                failWriteAt.set(0);
                throw new IOException("injected write failure on " + path);
            }
        }

        @Override public int read(ByteBuffer dst) throws IOException { return d.read(dst); }
        @Override public long read(ByteBuffer[] dsts, int offset, int length) throws IOException { return d.read(dsts, offset, length); }
        @Override public int write(ByteBuffer src) throws IOException { beforeWrite(); return d.write(src); }
        @Override public long write(ByteBuffer[] srcs, int offset, int length) throws IOException { beforeWrite(); return d.write(srcs, offset, length); }
        @Override public long position() throws IOException { return d.position(); }
        @Override public FileChannel position(long newPosition) throws IOException { d.position(newPosition); return this; }
        @Override public long size() throws IOException { return d.size(); }
        @Override public FileChannel truncate(long size) throws IOException { d.truncate(size); return this; }
        @Override public void force(boolean metaData) throws IOException {
            forces.incrementAndGet();
            int at = failForceAt.get();
            if (at > 0 && forcesSinceArm.incrementAndGet() == at) {
                failForceAt.set(0);
                throw new IOException("injected fsync failure on " + path);
            }
            if (!skipSync) d.force(metaData);
        }
        @Override public long transferTo(long position, long count, WritableByteChannel target) throws IOException { return d.transferTo(position, count, target); }
        @Override public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException { beforeWrite(); return d.transferFrom(src, position, count); }
        @Override public int read(ByteBuffer dst, long position) throws IOException { return d.read(dst, position); }
        @Override public int write(ByteBuffer src, long position) throws IOException { beforeWrite(); return d.write(src, position); }
        @Override public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException { return d.map(mode, position, size); }
        @Override public FileLock lock(long position, long size, boolean shared) throws IOException { return d.lock(position, size, shared); }
        @Override public FileLock tryLock(long position, long size, boolean shared) throws IOException { return d.tryLock(position, size, shared); }
        @Override protected void implCloseChannel() throws IOException { d.close(); }
    }
}
