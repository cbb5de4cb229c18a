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
    /** Per file: the length it had when it was last forced. */
    final java.util.Map<Path, Long> syncedLength = new java.util.concurrent.ConcurrentHashMap<>();
    /** Files created since their directory was last fsynced (lost by a power cut). */
    final Set<Path> unsyncedNames = java.util.concurrent.ConcurrentHashMap.newKeySet();

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
        boolean existed = java.nio.file.Files.exists(path);
        FileChannel ch = FileChannel.open(path, options);
        if (!existed) unsyncedNames.add(path.toAbsolutePath());
        return new Forwarding(ch, path.toAbsolutePath());
    }

    @Override
    public void moveAtomic(Path from, Path to) throws IOException {
        Disk.super.moveAtomic(from, to);
        Long l = syncedLength.remove(from.toAbsolutePath());
        if (l != null) syncedLength.put(to.toAbsolutePath(), l);
        if (unsyncedNames.remove(from.toAbsolutePath())) unsyncedNames.add(to.toAbsolutePath());
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        Path d = dir.toAbsolutePath();
        unsyncedNames.removeIf(p -> d.equals(p.getParent()));
        if (!skipSync) Disk.super.syncDirectory(dir);
    }

    /**
     * Renders a power-loss image of the segment files under {@code root} into {@code dest}: a
     * segment created since its directory's last fsync is lost; of the others only the forced
     * prefix is certain, the rest is (by {@code tailMode}) 0 kept, 1 dropped, 2 zero-filled,
     * 3 garbled. Other files (meta, anchors, indexes: hints or forced+renamed) are copied as they are.
     */
    void powerLossImage(Path root, Path dest, int tailMode, java.util.Random rnd) throws IOException {
        java.nio.file.Files.createDirectories(dest);
        try (java.nio.file.DirectoryStream<Path> s = java.nio.file.Files.newDirectoryStream(root)) {
            for (Path p : s) {
                Path t = dest.resolve(p.getFileName().toString());
                if (java.nio.file.Files.isDirectory(p)) {
                    powerLossImage(p, t, tailMode, rnd);
                    continue;
                }
                Path abs = p.toAbsolutePath();
                boolean segment = p.getFileName().toString().endsWith(".log");
                if (!segment) {
                    try {
                        java.nio.file.Files.copy(p, t, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    } catch (java.nio.file.NoSuchFileException renamedMeanwhile) {
                        // a temp file renamed while the image was taken
                    }
                    continue;
                }
                if (unsyncedNames.contains(abs)) continue;
                long synced = syncedLength.getOrDefault(abs, 0L);
                byte[] all = java.nio.file.Files.readAllBytes(p);
                int keep = (int) Math.min(synced, all.length);
                byte[] out;
                switch (tailMode) {
                    case 0 -> out = all;
                    case 1 -> out = java.util.Arrays.copyOf(all, keep);
                    case 2 -> { out = all.clone(); java.util.Arrays.fill(out, keep, out.length, (byte) 0); }
                    default -> { out = all.clone(); for (int i = keep; i < out.length; i++) out[i] = (byte) rnd.nextInt(); }
                }
                java.nio.file.Files.write(t, out);
            }
        }
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
        @Override public void force(boolean metaData) throws IOException {
            forces.incrementAndGet();
            int at = failForceAt.get();
            if (at > 0 && forcesSinceArm.incrementAndGet() == at) {
                failForceAt.set(0);
                throw new IOException("injected fsync failure on " + path);
            }
            long len = d.size();
            if (!skipSync) d.force(metaData);
            syncedLength.merge(path, len, Math::max);
        }
        @Override public FileChannel truncate(long size) throws IOException {
            d.truncate(size);
            syncedLength.computeIfPresent(path, (k, v) -> Math.min(v, size));
            return this;
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
