package io.tsdb.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The per-shard anchor (file {@code anchor}): the last fsynced offset and position, plus the
 * segments sealed after a failed fsync. Big-endian, specified in docs/wal-format.md:
 *
 * <pre>
 * version 1 (44 bytes; written while no segment is sealed):
 *  0 int magic 0x5457414E ("TWAN")   4 int version 1   8 long sequence   16 long segment base
 * 24 long position (bytes of that segment fsynced)     32 long committed offset
 * 40 int CRC32C of bytes 0..39
 *
 * version 2 (48 + 24 k bytes): bytes 0..39 as version 1 (version = 2), then
 * 40 int k = number of seals (1..MAX_SEALS)
 * 44 k x { long segment base, long synced length, long sealed length }
 * 44 + 24 k  int CRC32C of all previous bytes
 * </pre>
 *
 * A seal says: segment {@code base} had a failed fsync; its first {@code synced length} bytes were
 * fsynced, bytes up to {@code sealed length} hold acknowledged (not fsynced) blocks, everything
 * after is garbage (the failed batch). Recovery never reads past the sealed length, treats damage
 * between the two lengths as a torn tail of that segment only, and keeps the later segments.
 * Updated by write temp ({@code anchor.tmp}) + force + atomic rename + directory fsync.
 */
record Anchor(long sequence, long segmentBase, long position, long committedOffset, List<Seal> seals) {
    static final int MAGIC = 0x5457414E;
    static final int VERSION = 1;
    static final int VERSION_SEALS = 2;
    /** Size of a version-1 anchor. */
    static final int BYTES = 44;

    static final int SEAL_BYTES = 24;
    /** Bound of the seals kept (each is a failed fsync whose segment still exists). */
    static final int MAX_SEALS = 4096;

    static final String FILE = "anchor";
    static final String TEMP = "anchor.tmp";

    /** A segment sealed after a failed fsync (see the class comment). */
    record Seal(long segmentBase, long syncedLength, long sealedLength) {}

    Anchor {
        seals = List.copyOf(seals);
    }

    /** An anchor without seals (written as version 1). */
    Anchor(long sequence, long segmentBase, long position, long committedOffset) {
        this(sequence, segmentBase, position, committedOffset, List.of());
    }

    Map<Long, Seal> sealMap() {
        Map<Long, Seal> m = new HashMap<>();
        for (Seal s : seals) m.put(s.segmentBase(), s);
        return m;
    }

    /** Reads the anchor; null if missing; throws IOException with the reason if damaged. */
    static Anchor read(Disk disk, Path shardDir) throws IOException {
        Path p = shardDir.resolve(FILE);
        if (!Files.exists(p)) return null;
        try (FileChannel ch = disk.open(p, EnumSet.of(StandardOpenOption.READ))) {
            long size = ch.size();
            if (size != BYTES
                    && (size < BYTES + 4 + SEAL_BYTES
                            || size > BYTES + 4 + (long) SEAL_BYTES * MAX_SEALS
                            || (size - BYTES - 4) % SEAL_BYTES != 0))
                throw new IOException("anchor has " + size + " bytes, expected " + BYTES + " or 48 + 24 k");
            ByteBuffer b = ByteBuffer.allocate((int) size);
            while (b.hasRemaining()) if (ch.read(b, b.position()) < 0) throw new IOException("short anchor");
            int crcAt = (int) size - 4;
            CRC32C crc = new CRC32C();
            crc.update(b.array(), 0, crcAt);
            if ((int) crc.getValue() != b.getInt(crcAt)) throw new IOException("anchor CRC mismatch");
            if (b.getInt(0) != MAGIC) throw new IOException("anchor bad magic");
            int version = b.getInt(4);
            List<Seal> seals = new ArrayList<>();
            if (version == VERSION) {
                if (size != BYTES) throw new IOException("version 1 anchor has " + size + " bytes");
            } else if (version == VERSION_SEALS) {
                int k = b.getInt(40);
                if (k < 1 || k > MAX_SEALS || size != BYTES + 4 + (long) SEAL_BYTES * k)
                    throw new IOException("anchor seal count " + k + " does not match its size " + size);
                long prevBase = -1;
                for (int i = 0; i < k; i++) {
                    int at = 44 + i * SEAL_BYTES;
                    Seal s = new Seal(b.getLong(at), b.getLong(at + 8), b.getLong(at + 16));
                    if (s.segmentBase() <= prevBase || s.syncedLength() < 0 || s.sealedLength() < s.syncedLength())
                        throw new IOException("anchor seal " + i + " out of range: " + s);
                    prevBase = s.segmentBase();
                    seals.add(s);
                }
            } else {
                throw new IOException("anchor unknown version " + version);
            }
            Anchor a = new Anchor(b.getLong(8), b.getLong(16), b.getLong(24), b.getLong(32), seals);
            if (a.segmentBase < 0 || a.position < 0 || a.committedOffset < a.segmentBase)
                throw new IOException("anchor fields out of range: " + a);
            return a;
        }
    }

    /** Encodes this anchor (version 1 without seals, version 2 with). */
    byte[] encode() {
        if (seals.size() > MAX_SEALS) throw new IllegalStateException(seals.size() + " seals exceed " + MAX_SEALS);
        int size = seals.isEmpty() ? BYTES : BYTES + 4 + SEAL_BYTES * seals.size();
        ByteBuffer b = ByteBuffer.allocate(size);
        b.putInt(MAGIC)
                .putInt(seals.isEmpty() ? VERSION : VERSION_SEALS)
                .putLong(sequence)
                .putLong(segmentBase)
                .putLong(position)
                .putLong(committedOffset);
        if (!seals.isEmpty()) {
            b.putInt(seals.size());
            for (Seal s : seals)
                b.putLong(s.segmentBase()).putLong(s.syncedLength()).putLong(s.sealedLength());
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, size - 4);
        b.putInt((int) crc.getValue());
        return b.array();
    }

    /**
     * Publishes this anchor: temp file, force, atomic rename, directory fsync. On failure the temp
     * file is removed (a fresh one is created next time: a file whose fsync failed is not reused).
     */
    void write(Disk disk, Path shardDir) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(encode());
        Path tmp = shardDir.resolve(TEMP);
        try {
            try (FileChannel ch = disk.open(
                    tmp,
                    EnumSet.of(
                            StandardOpenOption.CREATE,
                            StandardOpenOption.WRITE,
                            StandardOpenOption.TRUNCATE_EXISTING))) {
                int zeros = 0;
                while (b.hasRemaining()) {
                    if (ch.write(b, b.position()) > 0) zeros = 0;
                    else if (++zeros > 16) throw new IOException("anchor write made no progress on " + tmp);
                }
                ch.force(true);
            }
            disk.moveAtomic(tmp, shardDir.resolve(FILE));
        } catch (IOException | RuntimeException e) {
            try {
                disk.delete(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        disk.syncDirectory(shardDir);
    }
}
