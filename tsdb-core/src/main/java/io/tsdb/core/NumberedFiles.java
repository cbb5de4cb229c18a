package io.tsdb.core;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-shard directories of files named {@code <prefix><20-digit number>} (checkpoints, the head
 * chunk log): zero padding makes name order numeric order.
 */
final class NumberedFiles {
    private NumberedFiles() {}

    /** {@code root/shard-SSSS}. */
    static Path shardDir(Path root, int shard) {
        return root.resolve(String.format("shard-%04d", shard));
    }

    static Path file(Path dir, String prefix, long number) {
        return dir.resolve(String.format("%s%020d", prefix, number));
    }

    /** The numbers of the files in {@code dir} named {@code prefix} + 20 digits, ascending; empty if no directory. */
    static List<Long> list(Path dir, String prefix) throws IOException {
        List<Long> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (name.startsWith(prefix) && name.length() == prefix.length() + 20) {
                    try {
                        out.add(Long.parseLong(name.substring(prefix.length())));
                    } catch (NumberFormatException ignored) {
                        // not ours
                    }
                }
            }
        }
        out.sort(null);
        return out;
    }
}
