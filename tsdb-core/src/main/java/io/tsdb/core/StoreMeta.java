package io.tsdb.core;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * The store's identity file {@code <dir>/STORE}: which format and how many shards, so that a
 * directory reopens with its own shard count on any machine.
 *
 * <pre>magic "TSDBSTOR" (8) | u8 version=1 | u32 shards | u32 CRC32C of the 13 preceding bytes</pre>
 */
final class StoreMeta {
    static final String FILE = "STORE";
    private static final byte[] MAGIC = {'T', 'S', 'D', 'B', 'S', 'T', 'O', 'R'};
    static final int VERSION = 1;

    private StoreMeta() {}

    /** The recorded shard count, or 0 when the file does not exist. */
    static int readShards(Path dir) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.exists(f)) {
            return 0;
        }
        byte[] b = Files.readAllBytes(f);
        if (b.length != 17) {
            throw new IOException("store identity file " + f + " is damaged: " + b.length + " bytes, expected 17");
        }
        CRC32C crc = new CRC32C();
        crc.update(b, 0, 13);
        ByteSource in = new ByteSource(b, 0, 17);
        for (byte m : MAGIC) {
            if (in.readByte() != (m & 0xFF)) {
                throw new IOException("store identity file " + f + " has a bad magic: not a tsdb store");
            }
        }
        int version = in.readByte();
        int shards = in.readInt();
        int stored = in.readInt();
        if (stored != (int) crc.getValue()) {
            throw new IOException("store identity file " + f + " is damaged: CRC32C mismatch");
        }
        if (version != VERSION) {
            throw new IOException("store identity file " + f + " has unsupported version " + version);
        }
        if (shards <= 0) {
            throw new IOException("store identity file " + f + " states " + shards + " shards");
        }
        return shards;
    }

    static void write(Path dir, int shards) throws IOException {
        ByteSink sink = new ByteSink(32);
        sink.writeBytes(MAGIC, 0, MAGIC.length);
        sink.writeByte(VERSION);
        sink.writeInt(shards);
        CRC32C crc = new CRC32C();
        crc.update(sink.buf, 0, sink.pos);
        sink.writeInt((int) crc.getValue());
        Path tmp = dir.resolve(FILE + ".tmp");
        try (FileChannel ch = FileChannel.open(
                tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(sink.toByteBuffer());
            ch.force(true);
        }
        try {
            Files.move(tmp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING);
        }
        Checkpoints.fsyncDir(dir);
    }
}
