package io.tsdb.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.zip.CRC32C;

/**
 * The per-shard anchor (file {@code anchor}, version 1): seals the last fsynced offset and its
 * position. 44 bytes big-endian: int magic 0x5457414E ("TWAN"), int version 1, long sequence,
 * long segment base, long position (bytes of that segment fsynced), long committed offset (every
 * record below it is fsynced), int CRC32C of the previous 40 bytes. Updated by write temp
 * ({@code anchor.tmp}) + force + atomic rename + directory fsync.
 */
record Anchor(long sequence, long segmentBase, long position, long committedOffset) {
    static final int MAGIC = 0x5457414E;
    static final int VERSION = 1;
    static final int BYTES = 44;
    static final String FILE = "anchor";
    static final String TEMP = "anchor.tmp";

    /** Reads the anchor; null if missing; throws IOException with the reason if damaged. */
    static Anchor read(Disk disk, Path shardDir) throws IOException {
        Path p = shardDir.resolve(FILE);
        if (!Files.exists(p)) return null;
        try (FileChannel ch = disk.open(p, EnumSet.of(StandardOpenOption.READ))) {
            if (ch.size() != BYTES) throw new IOException("anchor has " + ch.size() + " bytes, expected " + BYTES);
            ByteBuffer b = ByteBuffer.allocate(BYTES);
            while (b.hasRemaining()) if (ch.read(b, b.position()) < 0) throw new IOException("short anchor");
            CRC32C crc = new CRC32C();
            crc.update(b.array(), 0, 40);
            if ((int) crc.getValue() != b.getInt(40)) throw new IOException("anchor CRC mismatch");
            if (b.getInt(0) != MAGIC) throw new IOException("anchor bad magic");
            if (b.getInt(4) != VERSION) throw new IOException("anchor unknown version " + b.getInt(4));
            Anchor a = new Anchor(b.getLong(8), b.getLong(16), b.getLong(24), b.getLong(32));
            if (a.segmentBase < 0 || a.position < 0 || a.committedOffset < a.segmentBase)
                throw new IOException("anchor fields out of range: " + a);
            return a;
        }
    }

    void write(Disk disk, Path shardDir) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(BYTES);
        b.putInt(MAGIC).putInt(VERSION).putLong(sequence).putLong(segmentBase).putLong(position).putLong(committedOffset);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 40);
        b.putInt((int) crc.getValue());
        b.flip();
        Path tmp = shardDir.resolve(TEMP);
        try (FileChannel ch = disk.open(tmp, EnumSet.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING))) {
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
        disk.moveAtomic(tmp, shardDir.resolve(FILE));
        disk.syncDirectory(shardDir);
    }
}
