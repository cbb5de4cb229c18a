package io.tsdb.cli;

import io.tsdb.bench.util.ProcStats;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * A directory that a command creates and may reuse on a later run ({@code tsdb demo --dir}, {@code tsdb bench write
 * --out}). The rule: a command deletes only what it created.
 *
 * <ul>
 *   <li>A missing or empty directory is taken: created if needed, and a marker file ({@code .tsdb-demo},
 *       {@code .tsdb-bench}) written into it first, saying which command owns it and what it may delete.
 *   <li>A non-empty directory without that marker is refused, untouched, with a message naming it and saying why.
 *   <li>A directory with the marker is reused: only the entries the command names are deleted (a store's own files,
 *       {@link #STORE_FILES}, and the command's outputs); anything else in it stays.
 * </ul>
 */
final class OwnedDir {
    /** What a store directory holds that the store itself made: {@code StorageImpl} files, and its lock file. */
    static final List<String> STORE_FILES = List.of("STORE", "STORE.tmp", "lock", "wal", "checkpoints", "chunks_head");

    static final String STORE_FILES_TEXT = "STORE, STORE.tmp, lock, wal/, checkpoints/, chunks_head/";

    private final Path dir;
    private final String marker;
    private final String command;

    private OwnedDir(Path dir, String marker, String command) {
        this.dir = dir;
        this.marker = marker;
        this.command = command;
    }

    /**
     * Checks that {@code dir} may be used by {@code command}, creates it if missing and writes the marker; deletes
     * nothing.
     *
     * @param option the option that named the directory, for messages ({@code --dir})
     * @param marker the marker file's name ({@code .tsdb-demo})
     * @param command the command, for messages ({@code tsdb demo})
     * @param owns what the command may delete in it on reuse, in words, for the marker's text
     * @throws CommandLine.ParameterException if the directory is not empty and has no marker, or is not a directory
     */
    static OwnedDir claim(CommandLine cl, String option, Path dir, String marker, String command, String owns)
            throws IOException {
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new CommandLine.ParameterException(
                    cl, "refusing to use " + option + " " + dir + ": it exists and is not a directory");
        }
        if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
                && !isEmpty(dir)
                && !Files.isRegularFile(dir.resolve(marker), LinkOption.NOFOLLOW_LINKS)) {
            throw new CommandLine.ParameterException(
                    cl,
                    "refusing to wipe " + option + " " + dir
                            + ": it is not empty and has no " + marker + " file, so " + command + " did not create it; "
                            + command + " deletes only what it created. Name a new or empty directory.");
        }
        Files.createDirectories(dir);
        Path m = dir.resolve(marker);
        if (!Files.exists(m)) {
            Files.writeString(
                    m,
                    "This directory was created by `" + command + "`.\n"
                            + "A later `" + command + "` on it deletes only what it makes here: " + owns
                            + ".\nAnything else in it is left alone. Without this file `" + command
                            + "` refuses the directory unless it is empty.\n",
                    StandardCharsets.UTF_8);
        }
        return new OwnedDir(dir, marker, command);
    }

    Path path() {
        return dir;
    }

    /** Deletes {@code name} (a file, or a directory with all in it) from this directory, if there. */
    void delete(String name) throws IOException {
        deleteEntry(dir.resolve(checkName(name)));
    }

    /**
     * Deletes the store files ({@link #STORE_FILES}) of the store in {@code name} (or of this directory itself when
     * {@code name} is "."), then that directory if nothing else is left in it.
     */
    void deleteStore(String name) throws IOException {
        Path store = name.equals(".") ? dir : dir.resolve(checkName(name));
        if (!Files.isDirectory(store, LinkOption.NOFOLLOW_LINKS)) {
            if (!name.equals(".")) {
                Files.deleteIfExists(store); // a symbolic link or file in its place: only the link goes
            }
            return;
        }
        for (String f : STORE_FILES) {
            deleteEntry(store.resolve(f));
        }
        if (!name.equals(".")) {
            try {
                Files.deleteIfExists(store);
            } catch (DirectoryNotEmptyException e) {
                // something that is not the store's stays, and so does its directory
            }
        }
    }

    /**
     * Copies the store files ({@link #STORE_FILES}) of the store in {@code from} to {@code to} as they are now (see
     * {@link ProcStats#copyTree}): a crash image of the store, without whatever else lies beside it.
     */
    static void copyStore(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        for (String f : STORE_FILES) {
            Path p = from.resolve(f);
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                ProcStats.copyTree(p, to.resolve(f));
            } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    Files.copy(p, to.resolve(f), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                } catch (java.nio.file.NoSuchFileException e) {
                    // a temporary file renamed meanwhile: a crash could lack it too
                }
            }
        }
    }

    /** Bytes of the store files ({@link #STORE_FILES}) of the store in {@code dir}. */
    static long storeBytes(Path dir) throws IOException {
        long n = 0;
        for (String f : STORE_FILES) {
            n += ProcStats.dirBytes(dir.resolve(f));
        }
        return n;
    }

    private String checkName(String name) {
        if (name.isEmpty()
                || name.contains("/")
                || name.contains("\\")
                || name.equals(".")
                || name.equals("..")
                || name.equals(marker)) {
            throw new IllegalArgumentException(command + ": not an entry it owns: " + name);
        }
        return name;
    }

    /** A symbolic link is removed, never followed. */
    private static void deleteEntry(Path p) throws IOException {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            ProcStats.deleteRecursively(p);
        } else {
            Files.deleteIfExists(p);
        }
    }

    static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }
}
