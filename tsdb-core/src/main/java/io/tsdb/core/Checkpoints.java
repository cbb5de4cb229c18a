package io.tsdb.core;

import io.tsdb.core.chunk.Chunk;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Per-shard head checkpoints ({@code docs/checkpoint-format.md}). A checkpoint of shard s covers
 * every WAL record of s with offset below its {@code walOffset}; loading it and replaying the WAL
 * from that offset rebuilds the partition. Files live in {@code <store>/checkpoints/shard-SSSS/}
 * and are named {@code ckpt-<20-digit walOffset>}; they are published atomically (temp file,
 * force, atomic move, directory fsync). The newest two are kept so that a damaged newest one
 * falls back to the previous one plus the WAL; a damaged one found on open is renamed to
 * {@code *.damaged} so it no longer counts as kept.
 *
 * <pre>
 * magic "TSDBCKPT" (8) | u8 version=1 | u32 shard | u32 shardCount | u64 walOffset | u32 nextLocal
 * | u64 createdMillis | u32 seriesCount
 * | seriesCount x ( u32 ref | uvarint nLabels | nLabels x (uvarint len, UTF-8 name, uvarint len, UTF-8 value)
 *                   | u64 lastT | u64 lastValueBits | uvarint nChunks
 *                   | (nChunks - 1) x (svarint maxT - previous maxT | uvarint len | chunk bytes)   sealed (v2)
 *                   | uvarint len | chunk bytes )                                                  open
 * | u32 CRC32C of every preceding byte
 * </pre>
 * All fixed-width integers are big-endian.
 */
final class Checkpoints {
    static final byte[] MAGIC = {'T', 'S', 'D', 'B', 'C', 'K', 'P', 'T'};
    /** Version written; version 1 (sealed chunks without their maxT/last value) is still read. */
    static final int VERSION = 2;

    static final String PREFIX = "ckpt-";
    static final String TMP_SUFFIX = ".tmp";
    static final int KEEP = 2;

    private Checkpoints() {}

    static Path shardDir(Path root, int shard) {
        return NumberedFiles.shardDir(root, shard);
    }

    static Path file(Path shardDir, long offset) {
        return NumberedFiles.file(shardDir, PREFIX, offset);
    }

    /** Offsets of the valid-looking checkpoint file names of a shard, newest first. */
    static List<Long> list(Path shardDir) throws IOException {
        List<Long> out = NumberedFiles.list(shardDir, PREFIX);
        java.util.Collections.reverse(out);
        return out;
    }

    /** Removes leftover temp files of interrupted checkpoints. */
    static void removeTemps(Path shardDir) throws IOException {
        if (!Files.isDirectory(shardDir)) {
            return;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(shardDir, "*" + TMP_SUFFIX)) {
            for (Path p : ds) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** What one series contributes to a checkpoint, captured under the partition lock. */
    record SeriesSnapshot(int ref, Labels labels, long lastT, long lastBits, Chunk[] sealed, byte[] open) {}

    /** A consistent snapshot of a partition taken under its lock. */
    record PartitionSnapshot(int shard, int shardCount, long walOffset, int nextLocal, List<SeriesSnapshot> series) {}

    /** Call under the partition lock. */
    static PartitionSnapshot snapshot(HeadPartition p, long walOffset) {
        List<SeriesSnapshot> list = new ArrayList<>();
        for (MemSeries s : p.seriesArray()) {
            if (s == null || s.removed || !s.logged) {
                continue;
            }
            Chunk[] cs = s.chunks;
            if (cs.length == 0) {
                continue;
            }
            Chunk[] sealed = java.util.Arrays.copyOf(cs, cs.length - 1);
            list.add(new SeriesSnapshot(s.ref, s.labels, s.lastT, s.lastBits, sealed, cs[cs.length - 1].toBytes()));
        }
        return new PartitionSnapshot(p.shard, p.shardCount, walOffset, p.nextLocal, list);
    }

    /** Writes and atomically publishes a snapshot. Returns the file size. */
    static long write(Path shardDir, PartitionSnapshot snap) throws IOException {
        return write(shardDir, snap, VERSION);
    }

    /** {@link #write(Path, PartitionSnapshot)} in a given format version (1 or 2; tests write old files). */
    static long write(Path shardDir, PartitionSnapshot snap, int version) throws IOException {
        if (version != 1 && version != VERSION) {
            throw new IllegalArgumentException("checkpoint version " + version);
        }
        Files.createDirectories(shardDir);
        Path target = file(shardDir, snap.walOffset());
        Path tmp = shardDir.resolve(target.getFileName() + TMP_SUFFIX);
        CRC32C crc = new CRC32C();
        long size = 0;
        try (FileChannel ch = FileChannel.open(
                        tmp,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING);
                OutputStream os = java.nio.channels.Channels.newOutputStream(ch)) {
            ByteSink sink = new ByteSink(1 << 16);
            sink.writeBytes(MAGIC, 0, MAGIC.length);
            sink.writeByte(version);
            sink.writeInt(snap.shard());
            sink.writeInt(snap.shardCount());
            sink.writeLong(snap.walOffset());
            sink.writeInt(snap.nextLocal());
            sink.writeLong(System.currentTimeMillis());
            sink.writeInt(snap.series().size());
            for (SeriesSnapshot s : snap.series()) {
                sink.writeInt(s.ref());
                String[] nv = s.labels().raw();
                sink.uvarint(nv.length >> 1);
                for (String str : nv) {
                    sink.writeString(str);
                }
                sink.writeLong(s.lastT());
                sink.writeLong(s.lastBits());
                sink.uvarint(s.sealed().length + 1L);
                long prevMax = 0;
                for (Chunk c : s.sealed()) {
                    byte[] b = c.toBytes();
                    if (version >= 2) {
                        sink.svarint(c.maxTime() - prevMax); // the first chunk's is relative to 0
                        prevMax = c.maxTime();
                    }
                    sink.uvarint(b.length);
                    sink.writeBytes(b, 0, b.length);
                }
                sink.uvarint(s.open().length);
                sink.writeBytes(s.open(), 0, s.open().length);
                if (sink.size() >= (1 << 16)) {
                    crc.update(sink.buf, 0, sink.pos);
                    os.write(sink.buf, 0, sink.pos);
                    size += sink.pos;
                    sink.reset();
                }
            }
            crc.update(sink.buf, 0, sink.pos);
            sink.writeInt((int) crc.getValue());
            os.write(sink.buf, 0, sink.pos);
            size += sink.pos;
            os.flush();
            ch.force(true);
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        fsyncDir(shardDir);
        return size;
    }

    static void fsyncDir(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // some platforms (Windows) cannot open directories; the rename is still atomic
        }
    }

    /** Deletes the checkpoints of a shard that state a WAL offset beyond {@code walOffset} (stale ones). */
    static void deleteBeyond(Path shardDir, long walOffset) throws IOException {
        boolean any = false;
        for (long off : list(shardDir)) {
            if (off > walOffset) {
                Files.deleteIfExists(file(shardDir, off));
                any = true;
            }
        }
        if (any) {
            fsyncDir(shardDir);
        }
    }

    /** Deletes all but the newest {@link #KEEP} checkpoints; returns the oldest kept offset (or -1). */
    static long prune(Path shardDir) throws IOException {
        List<Long> offsets = list(shardDir);
        for (int i = KEEP; i < offsets.size(); i++) {
            Files.deleteIfExists(file(shardDir, offsets.get(i)));
        }
        if (offsets.size() > KEEP) {
            fsyncDir(shardDir);
        }
        return offsets.size() >= KEEP ? offsets.get(KEEP - 1) : -1;
    }

    /** A decoded checkpoint, not yet applied. */
    record Loaded(long walOffset, int nextLocal, List<LoadedSeries> series, long samples) {}

    record LoadedSeries(int ref, Labels labels, long lastT, long lastBits, Chunk[] chunks) {}

    /** Reads and fully validates one checkpoint file. */
    static Loaded read(Path f, int shard, int shardCount) throws IOException {
        byte[] b = Files.readAllBytes(f);
        int headerLen = MAGIC.length + 1 + 4 + 4 + 8 + 4 + 8 + 4;
        if (b.length < headerLen + 4) {
            throw new CorruptRecordException("checkpoint " + f + ": " + b.length + " bytes, too short");
        }
        CRC32C crc = new CRC32C();
        crc.update(b, 0, b.length - 4);
        ByteSource in = new ByteSource(b, b.length - 4, 4);
        int stored = in.readInt();
        if (stored != (int) crc.getValue()) {
            throw new CorruptRecordException("checkpoint " + f + ": CRC32C mismatch (stored "
                    + Integer.toHexString(stored) + ", computed " + Integer.toHexString((int) crc.getValue()) + ")");
        }
        in = new ByteSource(b, 0, b.length - 4);
        for (byte m : MAGIC) {
            if (in.readByte() != (m & 0xFF)) {
                throw new CorruptRecordException("checkpoint " + f + ": bad magic");
            }
        }
        int version = in.readByte();
        if (version != 1 && version != VERSION) {
            throw new CorruptRecordException("checkpoint " + f + ": unsupported version " + version);
        }
        int fShard = in.readInt();
        int fCount = in.readInt();
        if (fShard != shard || fCount != shardCount) {
            throw new CorruptRecordException("checkpoint " + f + ": written for shard " + fShard + " of " + fCount
                    + ", expected shard " + shard + " of " + shardCount);
        }
        long walOffset = in.readLong();
        int nextLocal = in.readInt();
        in.readLong(); // created
        int n = in.readInt();
        if (n < 0 || n > in.remaining() / 8) {
            throw new CorruptRecordException("checkpoint " + f + ": bad series count " + n);
        }
        List<LoadedSeries> out = new ArrayList<>(n);
        long samples = 0;
        Chunk.Slab slab = new Chunk.Slab();
        for (int i = 0; i < n; i++) {
            int ref = in.readInt();
            if (ref < 0 || ref % shardCount != shard) {
                throw new CorruptRecordException("checkpoint " + f + ": series ref " + ref + " not of shard " + shard);
            }
            int nl = in.uvarintInt(Math.min(RecordCodec.MAX_LABELS, in.remaining() / 2), "label count");
            String[] nv = new String[2 * nl];
            for (int j = 0; j < nv.length; j++) {
                nv[j] = in.readString(RecordCodec.MAX_STRING);
            }
            long lastT = in.readLong();
            long lastBits = in.readLong();
            int nc = in.uvarintInt(in.remaining(), "chunk count");
            Chunk[] chunks = new Chunk[nc];
            long prevMax = 0;
            for (int j = 0; j < nc; j++) {
                boolean sealedV2 = version >= 2 && j < nc - 1;
                long maxT = sealedV2 ? prevMax + in.svarint() : 0;
                prevMax = maxT;
                int len = in.uvarintInt(in.remaining(), "chunk length");
                try {
                    // sealed chunks of v2 carry their newest timestamp and value under the file's CRC:
                    // no full decode, and their payloads share slabs; the open chunk is decoded to
                    // rebuild its encoder
                    chunks[j] = sealedV2
                            ? Chunk.fromSealedBytes(b, in.pos, len, maxT, slab)
                            : Chunk.fromBytes(b, in.pos, len);
                    if (j > 0 && chunks[j].minTime() <= chunks[j - 1].maxTime()) {
                        throw new IllegalArgumentException("starts at t=" + chunks[j].minTime()
                                + ", not after the previous chunk's end t=" + chunks[j - 1].maxTime());
                    }
                } catch (IllegalArgumentException e) {
                    throw new CorruptRecordException(
                            "checkpoint " + f + ": series " + ref + " chunk " + j + ": " + e.getMessage());
                }
                in.pos += len;
                if (j < nc - 1) {
                    chunks[j].seal();
                }
                samples += chunks[j].numSamples();
            }
            if (nc == 0 || chunks[nc - 1].maxTime() != lastT) {
                throw new CorruptRecordException("checkpoint " + f + ": series " + ref + " last timestamp mismatch");
            }
            out.add(new LoadedSeries(ref, Labels.ofSortedTrusted(nv), lastT, lastBits, chunks));
        }
        if (in.hasRemaining()) {
            throw new CorruptRecordException("checkpoint " + f + ": " + in.remaining() + " trailing bytes");
        }
        return new Loaded(walOffset, nextLocal, out, samples);
    }

    /** Applies a loaded checkpoint to an empty partition (single-threaded). */
    static void apply(Loaded l, HeadPartition p, java.util.function.ToLongFunction<Labels> hashFn) {
        for (LoadedSeries ls : l.series()) {
            MemSeries s = p.insert(ls.ref(), ls.labels(), hashFn.applyAsLong(ls.labels()));
            s.logged = true;
            s.setChunks(ls.chunks());
            s.lastT = ls.lastT();
            s.lastBits = ls.lastBits();
            p.numChunks += ls.chunks().length;
        }
        p.numSamples += l.samples();
        if (l.nextLocal() > p.nextLocal) {
            p.nextLocal = l.nextLocal();
        }
    }
}
