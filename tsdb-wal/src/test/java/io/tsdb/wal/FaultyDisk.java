package io.tsdb.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A fault-injecting file layer with a power-loss model.
 *
 * <ul>
 *   <li>Counts fsyncs; can make the n-th {@code force()} / {@code write()} throw, or skip fsyncs
 *       altogether (fast tests that do not test durability).</li>
 *   <li><b>fsync points</b> (every {@code force()} and every directory fsync, numbered together):
 *       {@link #failFsyncAt} makes one throw, with fsyncgate semantics: a file whose force failed
 *       keeps the synced length it had, later forces "succeed" without making anything durable,
 *       so its unsynced bytes are dropped (zeroed, garbled) in every later power-loss image; a
 *       failed directory fsync loses the names then unsynced in that directory for good (until
 *       deleted). Writes to a file after its fsync failed are counted.</li>
 *   <li><b>space points</b> (every write call and every file creation, numbered together):
 *       {@link #fullAt} fills the device at one of them. A write there writes part of its buffer
 *       and returns the short count (as {@code write(2)} does when the device fills up); from then
 *       on every write throws {@code IOException("No space left on device")} and every creation
 *       a {@link FileSystemException} with that reason, until {@link #freeSpace()}.</li>
 *   <li><b>short writes</b>: {@link #maxBytesPerWrite} caps what one call writes;
 *       {@link #zeroWriteEvery} makes every k-th call write nothing and return 0;
 *       {@link #failWriteMidFrame} makes the write at one space point write part of its buffer,
 *       then throw.</li>
 *   <li><b>held forces</b>: {@link #holdForces} blocks the forces of matching files until
 *       {@link #releaseForces()}.</li>
 * </ul>
 */
final class FaultyDisk implements Disk {
    static final String ENOSPC = "No space left on device";

    final AtomicLong forces = new AtomicLong();
    final AtomicLong writes = new AtomicLong();
    /** force() number (1-based, counted from arming) that throws; 0 = never. */
    final AtomicInteger failForceAt = new AtomicInteger();

    final AtomicInteger failWriteAt = new AtomicInteger();
    private final AtomicInteger forcesSinceArm = new AtomicInteger();
    private final AtomicInteger writesSinceArm = new AtomicInteger();
    volatile boolean skipSync;
    /** Per file: the length it had when it was last forced. */
    final Map<Path, Long> syncedLength = new ConcurrentHashMap<>();
    /** Files created since their directory was last fsynced (lost by a power cut). */
    final Set<Path> unsyncedNames = ConcurrentHashMap.newKeySet();

    // ---- fsync points ------------------------------------------------------------------------
    /** Forces and directory fsyncs so far. */
    final AtomicLong fsyncPoints = new AtomicLong();

    private final Set<Long> failFsyncPoints = ConcurrentHashMap.newKeySet();
    /** When > 0: every fsync point from this one on fails (a device that stopped syncing). */
    private volatile long failFsyncFromPoint;
    /** Files whose force failed: their synced length never grows again. */
    final Set<Path> fsyncFailed = ConcurrentHashMap.newKeySet();
    /** Names unsynced when their directory's fsync failed: lost by any later power cut. */
    final Set<Path> lostNames = ConcurrentHashMap.newKeySet();
    /** Write calls on a file after its fsync failed. */
    final AtomicLong writesAfterFsyncFailure = new AtomicLong();
    /** What the injected fsync failure hit ("force <path>" or "dirsync <path>"). */
    final List<String> failedFsyncs = java.util.Collections.synchronizedList(new ArrayList<>());

    // ---- space points ------------------------------------------------------------------------
    /** Write calls and file creations so far. */
    final AtomicLong spacePoints = new AtomicLong();

    private volatile long fullAtPoint;
    private volatile int partialPercent = 50;
    volatile boolean full;
    /** ENOSPC errors thrown. */
    final AtomicLong enospc = new AtomicLong();
    /** What the space point that filled the device hit. */
    volatile String filledAt;

    // ---- short writes ------------------------------------------------------------------------
    /** When > 0: no write call writes more than this. */
    volatile int maxBytesPerWrite;
    /** When > 0: every k-th write call writes nothing and returns 0. */
    volatile int zeroWriteEvery;

    final AtomicLong shortWrites = new AtomicLong();
    /** When set: the next truncate() throws (a cut that fails leaves a partial frame behind). */
    volatile boolean failNextTruncate;

    final AtomicLong failedTruncates = new AtomicLong();
    private final AtomicLong writeCalls = new AtomicLong();
    private volatile long failMidFrameAtPoint;
    private volatile int midFramePercent;
    volatile String midFrameFailedAt;

    // ---- held forces -------------------------------------------------------------------------
    private volatile Predicate<Path> holdForce;
    private volatile CountDownLatch forceGate = new CountDownLatch(0);
    final AtomicInteger heldForces = new AtomicInteger();

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

    /** The n-th fsync point from now (1-based) throws, once (fsyncgate semantics, see the class comment); may be armed for several points. */
    void failFsyncAt(long n) {
        failFsyncPoints.add(fsyncPoints.get() + n);
    }

    /** Every fsync point from the n-th from now (1-based) on throws. */
    void failFsyncFrom(long n) {
        failFsyncFromPoint = fsyncPoints.get() + n;
    }

    void stopFailingFsyncs() {
        failFsyncFromPoint = 0;
        failFsyncPoints.clear();
    }

    private boolean fsyncFails(long point) {
        if (failFsyncPoints.remove(point)) return true;
        long from = failFsyncFromPoint;
        return from > 0 && point >= from;
    }

    /** The device fills up at the n-th space point from now (1-based); {@code percent} of that write still lands. */
    void fullAt(long n, int percent) {
        partialPercent = percent;
        fullAtPoint = spacePoints.get() + n;
    }

    void freeSpace() {
        full = false;
    }

    /** The write at the n-th space point from now writes {@code percent} of its buffer, then throws an I/O error. */
    void failWriteMidFrame(long n, int percent) {
        midFramePercent = percent;
        failMidFrameAtPoint = spacePoints.get() + n;
    }

    /** Blocks every force() of a file matching {@code which} until {@link #releaseForces()}. */
    void holdForces(Predicate<Path> which) {
        forceGate = new CountDownLatch(1);
        holdForce = which;
    }

    void releaseForces() {
        holdForce = null;
        forceGate.countDown();
    }

    @Override
    public FileChannel open(Path path, Set<? extends OpenOption> options) throws IOException {
        Path abs = path.toAbsolutePath();
        boolean existed = Files.exists(path);
        if (!existed
                && (options.contains(StandardOpenOption.CREATE) || options.contains(StandardOpenOption.CREATE_NEW))) {
            long sp = spacePoints.incrementAndGet();
            if (full) {
                enospc.incrementAndGet();
                throw new FileSystemException(path.toString(), null, ENOSPC);
            }
            if (sp == fullAtPoint) {
                fullAtPoint = 0;
                full = true;
                filledAt = "create " + abs.getFileName();
                enospc.incrementAndGet();
                throw new FileSystemException(path.toString(), null, ENOSPC);
            }
        }
        FileChannel ch = FileChannel.open(path, options);
        if (!existed) unsyncedNames.add(abs);
        return new Forwarding(ch, abs);
    }

    @Override
    public void moveAtomic(Path from, Path to) throws IOException {
        Disk.super.moveAtomic(from, to);
        Long l = syncedLength.remove(from.toAbsolutePath());
        if (l != null) syncedLength.put(to.toAbsolutePath(), l);
        if (unsyncedNames.remove(from.toAbsolutePath())) unsyncedNames.add(to.toAbsolutePath());
    }

    @Override
    public void delete(Path path) throws IOException {
        Disk.super.delete(path);
        Path abs = path.toAbsolutePath();
        unsyncedNames.remove(abs);
        lostNames.remove(abs);
        syncedLength.remove(abs);
        fsyncFailed.remove(abs);
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        Path d = dir.toAbsolutePath();
        long fp = fsyncPoints.incrementAndGet();
        if (fsyncFails(fp)) {
            for (Path p : unsyncedNames) if (d.equals(p.getParent())) lostNames.add(p);
            failedFsyncs.add("dirsync " + d.getFileName());
            throw new IOException("injected directory fsync failure on " + dir);
        }
        unsyncedNames.removeIf(p -> d.equals(p.getParent()) && !lostNames.contains(p));
        if (!skipSync) Disk.super.syncDirectory(dir);
    }

    /**
     * Problems with the durability of the segments under {@code shardDir} (every one, except a
     * segment whose fsync failed, must be wholly fsynced with its name): what a SYNC_BATCH
     * acknowledgement relies on.
     */
    List<String> unsyncedSegments(Path shardDir) throws IOException {
        List<String> problems = new ArrayList<>();
        for (Path p : TestFiles.segments(shardDir)) {
            Path abs = p.toAbsolutePath();
            if (fsyncFailed.contains(abs)) continue;
            if (unsyncedNames.contains(abs) || lostNames.contains(abs))
                problems.add(p.getFileName() + ": name not fsynced");
            long size = Files.size(p);
            long synced = syncedLength.getOrDefault(abs, 0L);
            if (synced < size) problems.add(p.getFileName() + ": " + (size - synced) + " bytes not fsynced");
        }
        return problems;
    }

    void powerLossImage(Path root, Path dest, int tailMode, java.util.Random rnd) throws IOException {
        powerLossImage(root, dest, tailMode, false, rnd);
    }

    /**
     * Renders a power-loss image of the segment files under {@code root} into {@code dest}: a
     * segment created since its directory's last fsync is lost (unless {@code keepUnsyncedNames}:
     * the file system happened to persist the name), as is one whose directory fsync failed; of
     * the others only the forced prefix is certain, the rest is (by {@code tailMode}) 0 kept,
     * 1 dropped, 2 zero-filled, 3 garbled. Other files (meta, anchors, indexes: hints or
     * forced+renamed) are copied as they are.
     */
    void powerLossImage(Path root, Path dest, int tailMode, boolean keepUnsyncedNames, java.util.Random rnd)
            throws IOException {
        Files.createDirectories(dest);
        try (java.nio.file.DirectoryStream<Path> s = Files.newDirectoryStream(root)) {
            for (Path p : s) {
                Path t = dest.resolve(p.getFileName().toString());
                if (Files.isDirectory(p)) {
                    powerLossImage(p, t, tailMode, keepUnsyncedNames, rnd);
                    continue;
                }
                Path abs = p.toAbsolutePath();
                boolean segment = p.getFileName().toString().endsWith(".log");
                if (!segment) {
                    try {
                        Files.copy(p, t, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    } catch (java.nio.file.NoSuchFileException renamedMeanwhile) {
                        // a temp file renamed while the image was taken
                    }
                    continue;
                }
                if (lostNames.contains(abs) || (!keepUnsyncedNames && unsyncedNames.contains(abs))) continue;
                long synced = syncedLength.getOrDefault(abs, 0L);
                byte[] all = Files.readAllBytes(p);
                int keep = (int) Math.min(synced, all.length);
                byte[] out;
                switch (tailMode) {
                    case 0 -> out = all;
                    case 1 -> out = java.util.Arrays.copyOf(all, keep);
                    case 2 -> {
                        out = all.clone();
                        java.util.Arrays.fill(out, keep, out.length, (byte) 0);
                    }
                    default -> {
                        out = all.clone();
                        for (int i = keep; i < out.length; i++) out[i] = (byte) rnd.nextInt();
                    }
                }
                Files.write(t, out);
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

        /** Applies the write faults; returns -1 to go on with the real write, else the count to return. */
        private int beforeWrite(ByteBuffer src, long position) throws IOException {
            writes.incrementAndGet();
            if (fsyncFailed.contains(path)) writesAfterFsyncFailure.incrementAndGet();
            int at = failWriteAt.get();
            if (at > 0 && writesSinceArm.incrementAndGet() == at) {
                failWriteAt.set(0);
                throw new IOException("injected write failure on " + path);
            }
            long sp = spacePoints.incrementAndGet();
            if (full) {
                enospc.incrementAndGet();
                throw new IOException(ENOSPC);
            }
            if (sp == fullAtPoint) {
                fullAtPoint = 0;
                full = true;
                filledAt = "write " + path.getFileName() + " (" + src.remaining() + " bytes)";
                int n = partial(src, position, partialPercent);
                if (n == 0) {
                    enospc.incrementAndGet();
                    throw new IOException(ENOSPC);
                }
                shortWrites.incrementAndGet();
                return n; // the short count; the next call meets the full device
            }
            if (sp == failMidFrameAtPoint) {
                failMidFrameAtPoint = 0;
                midFrameFailedAt = "write " + path.getFileName() + " (" + src.remaining() + " bytes)";
                partial(src, position, midFramePercent);
                throw new IOException("injected I/O error after a partial write on " + path);
            }
            long call = writeCalls.incrementAndGet();
            int z = zeroWriteEvery;
            if (z > 0 && call % z == 0) {
                shortWrites.incrementAndGet();
                return 0;
            }
            int max = maxBytesPerWrite;
            if (max > 0 && src.remaining() > max) {
                shortWrites.incrementAndGet();
                return partialBytes(src, position, max);
            }
            return -1;
        }

        private int partial(ByteBuffer src, long position, int percent) throws IOException {
            return partialBytes(src, position, (int) ((long) src.remaining() * percent / 100));
        }

        /** Writes the first n bytes of src (at position, or the channel position if -1); advances src. */
        private int partialBytes(ByteBuffer src, long position, int n) throws IOException {
            if (n <= 0) return 0;
            ByteBuffer part = src.slice(src.position(), n);
            int done = 0;
            while (part.hasRemaining()) done += position < 0 ? d.write(part) : d.write(part, position + done);
            src.position(src.position() + n);
            return n;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return d.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return d.read(dsts, offset, length);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            int r = beforeWrite(src, -1);
            return r >= 0 ? r : d.write(src);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            writes.incrementAndGet();
            if (full) throw new IOException(ENOSPC);
            return d.write(srcs, offset, length);
        }

        @Override
        public long position() throws IOException {
            return d.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            d.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return d.size();
        }

        @Override
        public void force(boolean metaData) throws IOException {
            forces.incrementAndGet();
            long fp = fsyncPoints.incrementAndGet();
            int at = failForceAt.get();
            if (at > 0 && forcesSinceArm.incrementAndGet() == at) {
                failForceAt.set(0);
                fsyncFailed.add(path);
                throw new IOException("injected fsync failure on " + path);
            }
            if (fsyncFails(fp)) {
                fsyncFailed.add(path);
                failedFsyncs.add("force " + path.getFileName());
                throw new IOException("injected fsync failure (EIO) on " + path);
            }
            Predicate<Path> hold = holdForce;
            if (hold != null && hold.test(path)) {
                heldForces.incrementAndGet();
                try {
                    forceGate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("held force interrupted");
                } finally {
                    heldForces.decrementAndGet();
                }
            }
            long len = d.size();
            if (!skipSync) d.force(metaData);
            // fsyncgate: after a failed fsync the file's lost pages are never written back
            if (!fsyncFailed.contains(path)) syncedLength.merge(path, len, Math::max);
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            if (failNextTruncate && size < d.size()) {
                failNextTruncate = false;
                failedTruncates.incrementAndGet();
                throw new IOException("injected truncate failure on " + path);
            }
            d.truncate(size);
            syncedLength.computeIfPresent(path, (k, v) -> Math.min(v, size));
            return this;
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return d.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            writes.incrementAndGet();
            if (full) throw new IOException(ENOSPC);
            return d.transferFrom(src, position, count);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return d.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            int r = beforeWrite(src, position);
            return r >= 0 ? r : d.write(src, position);
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            return d.map(mode, position, size);
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return d.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return d.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            d.close();
        }
    }
}
