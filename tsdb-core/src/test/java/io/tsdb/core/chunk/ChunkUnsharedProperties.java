package io.tsdb.core.chunk;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tsdb.core.SampleIterator;
import io.tsdb.testing.Seeds;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Chunk#appendUnshared} (the replay path) and {@link Chunk#create(int)} (capacity hint) must
 * produce exactly the chunk that {@link Chunk#append} on {@link Chunk#create()} produces, also when
 * the chunk is sealed (encoder dropped) and appended to again.
 */
class ChunkUnsharedProperties {

    @Test
    void unsharedAppendsEncodeLikeSharedOnes() {
        Seeds.check(
                300,
                g -> unsharedAppendsEncodeLikeSharedOnes(g.anyLong(), g.intBetween(0, 130), g.intBetween(-5, 3000)));
    }

    private static void unsharedAppendsEncodeLikeSharedOnes(long seed, int count, int hint) {
        Random r = new Random(seed);
        int kind = r.nextInt(4);
        Chunk shared = Chunk.create();
        Chunk unshared = Chunk.create(hint);
        long t = r.nextInt(1_000_000);
        long[] ts = new long[count];
        double[] vs = new double[count];
        int accepted = 0;
        for (int i = 0; i < count; i++) {
            t += 1 + (r.nextBoolean() ? 15_000 : r.nextInt(10_000_000));
            double v = switch (kind) {
                case 0 -> 1000.0 * i;
                case 1 -> r.nextInt(1 << 20) - (1 << 19);
                case 2 -> i == count / 2 ? 0.25 : i;
                default -> r.nextDouble() * 1e6;
            };
            boolean a = shared.append(t, v);
            boolean b = unshared.appendUnshared(t, v);
            assertEquals(a, b, "append result at " + i);
            if (a) {
                ts[accepted] = t;
                vs[accepted++] = v;
            }
            if (r.nextInt(50) == 0) {
                unshared.publish(); // publishing in the middle changes nothing
            }
            if (r.nextInt(40) == 0) {
                unshared.seal(); // drops the encoder; the next append rebuilds it by decoding
            }
        }
        unshared.publish();
        assertEquals(shared.numSamples(), unshared.numSamples());
        assertEquals(shared.minTime(), unshared.minTime());
        assertEquals(shared.maxTime(), unshared.maxTime());
        assertEquals(Double.doubleToRawLongBits(shared.lastValue()), Double.doubleToRawLongBits(unshared.lastValue()));
        assertEquals(shared.encoding(), unshared.encoding());
        assertArrayEquals(shared.toBytes(), unshared.toBytes());
        SampleIterator it = unshared.iterator();
        for (int i = 0; i < accepted; i++) {
            it.next();
            assertEquals(ts[i], it.timestamp());
            assertEquals(Double.doubleToRawLongBits(vs[i]), Double.doubleToRawLongBits(it.value()));
        }
        unshared.seal();
        shared.seal();
        assertArrayEquals(shared.toBytes(), unshared.toBytes());
        assertEquals(shared.sizeBytes(), unshared.sizeBytes());
    }
}
