package io.tsdb.core;

import org.junit.jupiter.api.Test;

/**
 * More seeds of the model properties. Not in the default test run (surefire includes it only in the
 * {@code long} profile: {@code ./mvnw -Plong test}).
 */
class StorageLongRun {
    @Test
    void manySeeds() throws Exception {
        StorageRoundTripProperties p = new StorageRoundTripProperties();
        java.util.Random r = new java.util.Random(20261123);
        for (int i = 0; i < 300; i++) {
            long seed = r.nextLong();
            p.closeAndOpenGiveTheSameSeriesAndSamples(seed, 1 + r.nextInt(60), r.nextBoolean());
            p.checkpointPlusWalTailEqualsFullWalReplay(seed, 1 + r.nextInt(30), r.nextInt(30));
        }
    }
}
