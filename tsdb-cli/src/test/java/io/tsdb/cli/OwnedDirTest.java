package io.tsdb.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class OwnedDirTest {
    private static final CommandLine CL = new CommandLine(new DemoCommand());

    private static OwnedDir claim(Path dir) throws Exception {
        return OwnedDir.claim(CL, "--dir", dir, ".tsdb-test", "tsdb test", "its store files");
    }

    @Test
    void aMissingOrEmptyDirectoryIsTakenAndMarked(@TempDir Path tmp) throws Exception {
        claim(tmp.resolve("new/deeper"));
        assertTrue(Files.isRegularFile(tmp.resolve("new/deeper/.tsdb-test")));
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        claim(empty);
        assertTrue(Files.readString(empty.resolve(".tsdb-test")).contains("tsdb test"));
    }

    @Test
    void aFileOrAnUnmarkedDirectoryIsRefused(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("file"), "x");
        CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class, () -> claim(file));
        assertTrue(e.getMessage().contains("is not a directory"), e.getMessage());
        Path dir = Files.createDirectories(tmp.resolve("d"));
        Files.writeString(dir.resolve("STORE"), "x");
        e = assertThrows(CommandLine.ParameterException.class, () -> claim(dir));
        assertTrue(e.getMessage().contains(dir + ": it is not empty and has no .tsdb-test file"), e.getMessage());
        assertEquals(1, Files.list(dir).count(), "nothing written into a refused directory");
    }

    @Test
    void deleteStoreRemovesOnlyTheStoresFilesAndNeverFollowsLinks(@TempDir Path tmp) throws Exception {
        OwnedDir owned = claim(tmp.resolve("d"));
        Path d = owned.path();
        Path store = Files.createDirectories(d.resolve("storage"));
        Files.writeString(store.resolve("STORE"), "s");
        Files.createDirectories(store.resolve("wal/0"));
        Files.writeString(store.resolve("wal/0/00000001"), "w");
        Files.createDirectories(store.resolve("chunks_head"));
        Files.writeString(store.resolve("keep.txt"), "k");
        // a link named like a store directory, to data outside: the link goes, the data stays
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("precious"), "p");
        Files.createSymbolicLink(store.resolve("checkpoints"), outside);
        owned.deleteStore("storage");
        assertTrue(Files.isRegularFile(store.resolve("keep.txt")));
        assertTrue(!Files.exists(store.resolve("STORE"))
                && !Files.exists(store.resolve("wal"))
                && !Files.exists(store.resolve("chunks_head")));
        assertTrue(!Files.exists(store.resolve("checkpoints"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertEquals("p", Files.readString(outside.resolve("precious")));
        // once only the store's files were there, its directory goes too
        Files.delete(store.resolve("keep.txt"));
        Files.writeString(store.resolve("STORE"), "s");
        owned.deleteStore("storage");
        assertTrue(!Files.exists(store));
        assertTrue(Files.isRegularFile(d.resolve(".tsdb-test")), "the marker stays");
    }

    @Test
    void onlyPlainEntryNamesCanBeDeleted(@TempDir Path tmp) throws Exception {
        OwnedDir owned = claim(tmp.resolve("d"));
        for (String bad : new String[] {"..", "../x", "a/b", "", ".tsdb-test"}) {
            assertThrows(IllegalArgumentException.class, () -> owned.delete(bad), bad);
        }
    }
}
