package io.tsdb.wal;

import java.nio.ByteBuffer;

/**
 * Receives the records of one shard during replay, in offset order, on one thread.
 * The buffer is only valid during the call (it may be reused); copy what you keep.
 */
@FunctionalInterface
public interface RecordHandler {
    void onRecord(long offset, ByteBuffer record) throws Exception;
}
