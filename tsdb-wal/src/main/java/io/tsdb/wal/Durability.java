package io.tsdb.wal;

/** When an append is acknowledged. See docs/durability.md for each mode's promise. */
public enum Durability {
    /** Acknowledged once the record is in the shard's in-RAM batch. */
    ASYNC,
    /** Acknowledged once the block holding the record was written to the OS (FileChannel.write returned). */
    PAGE_CACHE,
    /** Acknowledged once the block holding the record was written and force()d. */
    SYNC_BATCH
}
