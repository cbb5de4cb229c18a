package io.tsdb.wal;

/** What recovery found on open: truncated tails, skipped corrupt blocks, rebuilt indexes/anchors. */
public final class RecoveryReport {
    private RecoveryReport() {}
    /** True when nothing was truncated, skipped or rebuilt. */
    public boolean clean() { throw new UnsupportedOperationException("todo"); }
}
