package io.tsdb.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.bench.baseline.WriteAheadLog;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteAheadLogTest {

    private static List<byte[]> replayAll(WriteAheadLog log) throws IOException {
        List<byte[]> out = new ArrayList<>();
        long[] expect = {0};
        log.replay((offset, rec) -> {
            assertEquals(expect[0]++, offset);
            byte[] b = new byte[rec.remaining()];
            rec.get(b);
            out.add(b);
        });
        return out;
    }

    @Test
    void roundTripAcrossReopenInBothModes(@TempDir Path dir) throws Exception {
        for (boolean fsync : new boolean[] {false, true}) {
            Path f = dir.resolve("wal-" + fsync);
            Random rnd = new Random(7);
            List<byte[]> written = new ArrayList<>();
            try (WriteAheadLog log = WriteAheadLog.open(f, fsync)) {
                for (int i = 0; i < 300; i++) {
                    byte[] b = new byte[rnd.nextInt(i == 5 ? 3_000_000 : 300)];
                    rnd.nextBytes(b);
                    assertEquals(i, log.append(rnd.nextLong(), ByteBuffer.wrap(b), i));
                    written.add(b);
                }
                assertEquals(300, log.appends());
                if (fsync) {
                    assertEquals(300, log.fsyncCount());
                }
            }
            try (WriteAheadLog log = WriteAheadLog.open(f, fsync)) {
                assertEquals(0, log.truncatedBytesOnOpen());
                assertEquals(300, log.nextOffset());
                List<byte[]> read = replayAll(log);
                assertEquals(written.size(), read.size());
                for (int i = 0; i < read.size(); i++) {
                    assertArrayEquals(written.get(i), read.get(i), "record " + i);
                }
                assertEquals(300, log.append(1, ByteBuffer.wrap(new byte[] {1, 2, 3}), 0));
            }
        }
    }

    @Test
    void tornTailIsTruncatedAtEveryCutPoint(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("wal");
        long[] ends = new long[4];
        try (WriteAheadLog log = WriteAheadLog.open(f, false)) {
            for (int i = 0; i < 4; i++) {
                log.append(i, ByteBuffer.wrap(new byte[10 + i]), 0);
                ends[i] = log.diskBytes();
            }
        }
        byte[] full = Files.readAllBytes(f);
        for (int cut = WriteAheadLog.HEADER_BYTES; cut <= full.length; cut++) {
            Path g = dir.resolve("cut-" + cut);
            Files.write(g, java.util.Arrays.copyOf(full, cut));
            int complete = 0;
            while (complete < 4 && ends[complete] <= cut) {
                complete++;
            }
            try (WriteAheadLog log = WriteAheadLog.open(g, false)) {
                assertEquals(complete, log.nextOffset(), "cut at " + cut);
                assertEquals(complete, replayAll(log).size());
                long validEnd = complete == 0 ? WriteAheadLog.HEADER_BYTES : ends[complete - 1];
                assertEquals(cut - validEnd, log.truncatedBytesOnOpen());
            }
        }
    }

    @Test
    void bitFlipEndsTheValidPrefix(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("wal");
        try (WriteAheadLog log = WriteAheadLog.open(f, false)) {
            for (int i = 0; i < 3; i++) {
                log.append(i, ByteBuffer.wrap(new byte[] {(byte) i, 9, 9, 9}), 0);
            }
        }
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            long pos = WriteAheadLog.HEADER_BYTES + 12 + 8 + 1; // second record's payload, byte 1
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, pos);
            b.put(0, (byte) (b.get(0) ^ 0x10)).rewind();
            ch.write(b, pos);
        }
        try (WriteAheadLog log = WriteAheadLog.open(f, false)) {
            assertEquals(1, log.nextOffset());
            assertTrue(log.truncatedBytesOnOpen() > 0);
        }
    }

    @Test
    void rejectsForeignFilesAndBadUse(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("junk");
        Files.write(f, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        IOException e = assertThrows(IOException.class, () -> WriteAheadLog.open(f, false));
        assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
        WriteAheadLog log = WriteAheadLog.open(dir.resolve("ok"), false);
        assertThrows(
                IllegalArgumentException.class,
                () -> log.append(0, ByteBuffer.allocate(WriteAheadLog.MAX_RECORD_BYTES + 1), 0));
        log.close();
        IOException closed = assertThrows(IOException.class, () -> log.append(0, ByteBuffer.allocate(1), 0));
        assertTrue(closed.getMessage().contains("after close"));
    }

    @Test
    void concurrentAppendsAreEachWrittenOnceWithDenseOffsets(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("wal");
        ConcurrentHashMap<Long, Integer> byOffset = new ConcurrentHashMap<>();
        int threads = 8;
        int per = 500;
        try (WriteAheadLog log = WriteAheadLog.open(f, false)) {
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final int id = t;
                ts.add(new Thread(() -> {
                    for (int i = 0; i < per; i++) {
                        ByteBuffer b =
                                ByteBuffer.allocate(8).putInt(id).putInt(i).flip();
                        try {
                            byOffset.put(log.append(id, b, 0), id * per + i);
                        } catch (IOException e) {
                            throw new RuntimeException(e);
                        }
                    }
                }));
            }
            ts.forEach(Thread::start);
            for (Thread t : ts) {
                t.join();
            }
            assertTrue(log.lockWaitNanosTotal() >= 0);
        }
        try (WriteAheadLog log = WriteAheadLog.open(f, false)) {
            List<byte[]> recs = replayAll(log);
            assertEquals(threads * per, recs.size());
            for (int off = 0; off < recs.size(); off++) {
                ByteBuffer b = ByteBuffer.wrap(recs.get(off));
                assertEquals((int) byOffset.get((long) off), b.getInt() * per + b.getInt(), "offset " + off);
            }
        }
    }
}
