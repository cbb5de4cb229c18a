package io.tsdb.wal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/** Helpers for tests that damage files. */
final class TestFiles {
    private TestFiles() {}

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(t);
                else Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(x -> {
                try {
                    Files.delete(x);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Path> segments(Path shardDir) throws IOException {
        try (Stream<Path> s = Files.list(shardDir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".log"))
                    .sorted()
                    .toList();
        }
    }

    /** Start positions of the blocks of a clean segment file, plus its length at the end. */
    static List<Long> blockBoundaries(byte[] seg) {
        List<Long> b = new ArrayList<>();
        ByteBuffer bb = ByteBuffer.wrap(seg);
        long pos = 0;
        while (pos < seg.length) {
            b.add(pos);
            pos += BlockCodec.HEADER_BYTES + bb.getInt((int) pos + 32);
        }
        b.add(pos);
        return b;
    }

    /** Recomputes the CRC of the block at {@code pos} after a deliberate modification. */
    static void fixCrc(byte[] seg, int pos, int storedLen) {
        CRC32C crc = new CRC32C();
        crc.update(seg, pos, 52);
        int end = Math.min(seg.length, pos + BlockCodec.HEADER_BYTES + Math.max(0, storedLen));
        crc.update(seg, pos + BlockCodec.HEADER_BYTES, end - pos - BlockCodec.HEADER_BYTES);
        ByteBuffer.wrap(seg).putInt(pos + 52, (int) crc.getValue());
    }
}
