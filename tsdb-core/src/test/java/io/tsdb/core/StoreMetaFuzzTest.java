package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.testing.Fuzz;
import io.tsdb.testing.Gen;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Mutational fuzzing of the store identity file ({@link StoreMeta#readShards}): a damaged
 * {@code STORE} file fails only with {@link IOException} naming it; one that reads states a
 * positive shard count. Found inputs: {@code fuzz-corpus/store-identity/}.
 */
class StoreMetaFuzzTest {
    static final String DECODER = "store-identity";
    static final List<Class<? extends Throwable>> ALLOWED = List.of(IOException.class);
    static Path dir;

    @BeforeAll
    static void createDir() throws IOException {
        dir = Fuzz.tempDir("tsdb-fuzz-store");
    }

    @AfterAll
    static void deleteDir() {
        Fuzz.deleteTree(dir);
    }

    static byte[] valid(Gen g) {
        try {
            StoreMeta.write(dir, g.intBetween(1, 1 << 16));
            return Files.readAllBytes(dir.resolve(StoreMeta.FILE));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static byte[] fixChecksum(byte[] b) {
        if (b.length == 17) {
            Fuzz.putCrc32c(b, 0, 13);
        }
        return b;
    }

    static void decode(byte[] in) throws IOException {
        Files.write(dir.resolve(StoreMeta.FILE), in);
        try {
            assertTrue(StoreMeta.readShards(dir) > 0);
        } catch (IOException e) {
            assertTrue(e.getMessage().contains(StoreMeta.FILE), e.getMessage());
            throw e;
        }
    }

    @Test
    void damagedIdentityFilesFailOnlyWithIOException() {
        Fuzz.run(
                DECODER,
                1000,
                StoreMetaFuzzTest::valid,
                StoreMetaFuzzTest::fixChecksum,
                StoreMetaFuzzTest::decode,
                ALLOWED);
    }

    @TestFactory
    Stream<DynamicTest> corpus() {
        return Fuzz.corpus(getClass(), DECODER, StoreMetaFuzzTest::decode, ALLOWED);
    }
}
