package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tsdb.wal.Disk;
import io.tsdb.wal.Durability;
import io.tsdb.wal.DurabilityException;
import io.tsdb.wal.ShardFailedException;
import io.tsdb.wal.StorageFullException;
import io.tsdb.wal.WalBackpressureException;
import io.tsdb.wal.WalException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A commit that the WAL fails (full device, failed fsync, shard turned read-only, backpressure)
 * reaches the caller of {@link StorageImpl#write} and {@link Appender#commit()} as an
 * {@link IOException}, the WAL's {@link WalException} of that cause: one {@code catch (IOException e)}
 * handles every I/O-caused failure of a write (docs/durability.md, "Exceptions").
 */
class WalFailureTypesTest {
    @TempDir
    Path dir;

    /** A WAL file layer that can be made full, fail its fsyncs, or stall its writes. */
    static final class Faults implements Disk {
        final AtomicBoolean full = new AtomicBoolean();
        /** Forces still to fail; negative: every force fails. */
        final AtomicInteger forceFailures = new AtomicInteger();

        final AtomicBoolean stall = new AtomicBoolean();
        final CountDownLatch stalled = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public FileChannel open(Path path, Set<? extends OpenOption> options) throws IOException {
            return new Channel(FileChannel.open(path, options), this);
        }

        void beforeWrite() throws IOException {
            if (full.get()) {
                throw new IOException("No space left on device");
            }
            if (stall.get()) {
                stalled.countDown();
                try {
                    if (!release.await(60, TimeUnit.SECONDS)) {
                        throw new IOException("test: stalled write never released");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("stalled write interrupted");
                }
            }
        }

        void beforeForce() throws IOException {
            int n = forceFailures.get();
            if (n < 0 || (n > 0 && forceFailures.compareAndSet(n, n - 1))) {
                throw new IOException("Input/output error (injected fsync failure)");
            }
        }
    }

    static final class Channel extends io.tsdb.testing.HookedFileChannel {
        private final Faults f;

        Channel(FileChannel d, Faults f) {
            super(d);
            this.f = f;
        }

        @Override
        protected void beforeWrite() throws IOException {
            f.beforeWrite();
        }

        @Override
        protected void beforeForce() throws IOException {
            f.beforeForce();
        }
    }

    private static StorageOptions.Builder opts(Faults disk, Durability mode) {
        return TestUtil.small()
                .shards(1)
                .durability(mode)
                .headChunkLog(false)
                .checkpointOnClose(false)
                .walDisk(disk);
    }

    private static TimeSeries one(int series, long t) {
        return new TimeSeries(
                Labels.of("__name__", "wal_failure_types", "i", Integer.toString(series)),
                List.of(new Sample(t, series)));
    }

    /** Commits one sample through an appender. */
    private static void commit(StorageImpl s, int series, long t) throws IOException {
        Appender a = s.appender();
        a.append(0, one(series, t).labels(), t, series);
        a.commit();
    }

    /** The failure, caught as any embedder would: as an IOException. */
    private static IOException ioFailure(IoCall call) {
        try {
            call.run();
        } catch (IOException e) {
            return e;
        } catch (RuntimeException e) {
            throw new AssertionError("a WAL failure reached the caller unchecked: " + e, e);
        }
        throw new AssertionError("the call did not fail");
    }

    private interface IoCall {
        void run() throws IOException;
    }

    @Test
    void aFullDeviceFailsTheCommitWithStorageFullException() throws Exception {
        Faults disk = new Faults();
        try (StorageImpl s =
                StorageImpl.open(dir, opts(disk, Durability.SYNC_BATCH).build())) {
            commit(s, 0, 1000);
            disk.full.set(true);
            IOException e = ioFailure(() -> commit(s, 0, 2000));
            assertInstanceOf(StorageFullException.class, e);
            assertInstanceOf(WalException.class, e);
            IOException w = ioFailure(() -> s.write(one(1, 2000)));
            assertInstanceOf(StorageFullException.class, w);
            disk.full.set(false);
            commit(s, 0, 2000); // resumes by itself, the failed sample was not applied
            s.write(one(1, 2000));
            assertEquals(3, s.stats().samples());
        }
    }

    @Test
    void aFailedFsyncFailsTheCommitWithDurabilityExceptionAndTheShardGoesOn() throws Exception {
        Faults disk = new Faults();
        try (StorageImpl s =
                StorageImpl.open(dir, opts(disk, Durability.SYNC_BATCH).build())) {
            commit(s, 0, 1000);
            disk.forceFailures.set(1); // the block's fsync fails; the new segment's succeed
            IOException e = ioFailure(() -> commit(s, 0, 2000));
            assertInstanceOf(DurabilityException.class, e);
            assertInstanceOf(WalException.class, e);
            assertEquals(0, disk.forceFailures.get());
            commit(s, 0, 2000);
            assertEquals(2, s.stats().samples());
        }
    }

    @Test
    void aShardThatTurnedReadOnlyFailsCommitsWithShardFailedException() throws Exception {
        Faults disk = new Faults();
        try (StorageImpl s =
                StorageImpl.open(dir, opts(disk, Durability.SYNC_BATCH).build())) {
            commit(s, 0, 1000);
            disk.forceFailures.set(-1); // no fsync succeeds: not even a new segment can be opened
            assertInstanceOf(DurabilityException.class, ioFailure(() -> commit(s, 0, 2000)));
            IOException e = ioFailure(() -> commit(s, 0, 3000));
            assertInstanceOf(ShardFailedException.class, e);
            assertInstanceOf(ShardFailedException.class, ioFailure(() -> s.write(one(1, 3000))));
            disk.forceFailures.set(0);
            // reads keep working
            assertEquals(1, s.stats().samples());
        }
    }

    @Test
    void aFullBufferFailsTheCommitWithWalBackpressureException() throws Exception {
        Faults disk = new Faults();
        StorageOptions o = opts(disk, Durability.PAGE_CACHE)
                .walBackpressure(256, Duration.ofMillis(100))
                .build();
        ExecutorService pool = Executors.newCachedThreadPool();
        try (StorageImpl s = StorageImpl.open(dir, o)) {
            commit(s, 0, 1000);
            disk.stall.set(true);
            List<Future<?>> blocked = new ArrayList<>();
            // every commit buffers its records, then waits for the stalled write-out; the one that
            // no longer fits in the 256-byte buffer waits 100 ms for room and fails
            IOException failure = null;
            for (int i = 1; i < 64 && failure == null; i++) {
                final int series = i;
                long buffered = buffered(s);
                Future<?> f = pool.submit(() -> {
                    commit(s, series, 2000);
                    return null;
                });
                while (!f.isDone() && buffered(s) == buffered) {
                    Thread.sleep(1);
                }
                if (f.isDone()) {
                    try {
                        f.get();
                        fail("commit " + i + " returned while the write-out stalled");
                    } catch (java.util.concurrent.ExecutionException e) {
                        assertInstanceOf(IOException.class, e.getCause(), "caught as an IOException: " + e.getCause());
                        failure = (IOException) e.getCause();
                    }
                } else {
                    blocked.add(f);
                    assertTrue(disk.stalled.await(10, TimeUnit.SECONDS), "the write-out stalled");
                }
            }
            assertInstanceOf(WalBackpressureException.class, failure);
            assertTrue(failure.getMessage().contains("maxBufferedBytesPerShard"), failure.getMessage());
            int failedSeries = blocked.size() + 1;
            disk.stall.set(false);
            disk.release.countDown();
            for (Future<?> f : blocked) {
                f.get(30, TimeUnit.SECONDS); // acknowledged once the write-out went through
            }
            // nothing of the failed commit was applied; a retry goes through
            assertEquals(1 + blocked.size(), s.stats().samples());
            commit(s, failedSeries, 2000);
            assertEquals(2 + blocked.size(), s.stats().samples());
        } finally {
            disk.release.countDown();
            pool.shutdownNow();
        }
    }

    private static long buffered(StorageImpl s) {
        return s.stats().wal().total().bufferedBytes();
    }
}
