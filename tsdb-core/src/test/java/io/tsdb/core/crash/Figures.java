package io.tsdb.core.crash;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/** The figure lines of RELIABILITY.md section 4: printed, and appended to target/reliability-figures.txt. */
final class Figures {
    private Figures() {}

    static synchronized void report(String line) {
        System.out.println(line);
        System.out.flush();
        try {
            Path target = Path.of("target");
            if (Files.isDirectory(target)) {
                Files.writeString(
                        target.resolve("reliability-figures.txt"),
                        Instant.now() + " " + line + "\n",
                        StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            }
        } catch (IOException e) {
            System.err.println("could not append to target/reliability-figures.txt: " + e);
        }
    }

    static boolean longRun() {
        return Boolean.getBoolean("tsdb.long");
    }

    /** The seed of a run: -Dtsdb.seed=... to reproduce, else fresh (printed with the figures). */
    static long seed() {
        Long s = Long.getLong("tsdb.seed");
        return s != null ? s : System.nanoTime() ^ System.currentTimeMillis() * 0x9E3779B97F4A7C15L;
    }
}
