package io.tsdb.core;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** More seeds of the model properties; runs only with {@code -Dtsdb.long=true} ({@code ./mvnw -Plong test}). */
class LongRunTest {
    @Test
    void manySeeds() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("tsdb.long"), "long runs only with -Dtsdb.long=true");
        StorageRoundTripProperties p = new StorageRoundTripProperties();
        java.util.Random r = new java.util.Random(20261123);
        for (int i = 0; i < 300; i++) {
            long seed = r.nextLong();
            p.closeAndOpenGiveTheSameSeriesAndSamples(seed, 1 + r.nextInt(60), r.nextBoolean());
            p.checkpointPlusWalTailEqualsFullWalReplay(seed, 1 + r.nextInt(30), r.nextInt(30));
        }
    }
}
