package io.tsdb.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.wal.ShardedWAL;
import io.tsdb.wal.WalOptions;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unknown refs and undecodable records found on replay are counted and reported, never silently dropped. */
class ReplayReportTest {
    @TempDir
    Path dir;

    @Test
    void unknownRefsAndCorruptRecordsAreReported() throws Exception {
        StorageOptions opts = TestUtil.small().checkpointOnClose(false).build();
        Labels l = Labels.of("__name__", "ok");
        try (StorageImpl s = StorageImpl.open(dir, opts)) {
            s.write(new TimeSeries(l, List.of(new Sample(1, 1), new Sample(2, 2))));
        }
        // append foreign records to shard 1 of the WAL: samples of a ref never declared, garbage, an unknown type
        try (ShardedWAL wal = ShardedWAL.open(
                dir.resolve("wal"), WalOptions.builder().shards(4).build())) {
            ByteSink sink = new ByteSink(64);
            int unknownRef = 1 + 4 * 1000; // shard 1, local 1000: never declared
            RecordCodec.encodeSamples(
                    sink, new int[] {unknownRef, unknownRef}, new long[] {5, 6}, new long[] {0, 0}, 0, 2);
            wal.appendBatch(
                    1,
                    List.of(
                            ByteBuffer.wrap(sink.toArray()),
                            ByteBuffer.wrap(new byte[] {0x21, (byte) 0xFF}),
                            ByteBuffer.wrap(new byte[] {0x71, 1, 2, 3})),
                    5,
                    6);
            wal.flush();
        }
        try (StorageImpl s = StorageImpl.open(dir, opts)) {
            StorageStats.Replay r = s.stats().replay();
            assertEquals(2, r.unknownRefSamples());
            assertEquals(2, r.corruptRecords());
            assertNotNull(r.firstProblem());
            assertTrue(r.firstProblem().startsWith("shard 1 offset "), r.firstProblem());
            assertTrue(s.stats().toPrometheusText().contains("tsdb_replay_unknown_ref_samples 2"));
            // the valid data is intact and the store is usable
            assertEquals("ok{}: 1=3ff0000000000000 2=4000000000000000\n", TestUtil.renderStore(s));
            s.write(new TimeSeries(l, List.of(new Sample(3, 3))));
        }
    }
}
