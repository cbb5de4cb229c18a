package io.tsdb.wal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What recovery found on open (and what a replay found later): truncated tails, skipped corrupt
 * blocks, rebuilt indexes/anchors, unreadable shards. Thread-safe.
 */
public final class RecoveryReport {

    /** What happened. */
    public enum Kind {
        /**
         * An incomplete or garbage tail beyond the durable mark was truncated (expected after a
         * crash); or, for a segment removed whole, it was written during an ASYNC roll that never
         * finished and whose previous segment lost its unsynced tail (docs/wal-format.md, "Recovery").
         */
        TORN_TAIL_TRUNCATED,
        /** A damaged block before the durable mark was skipped; its records are lost, later blocks kept. */
        CORRUPT_BLOCK_SKIPPED,
        /** Damage before the durable mark with no valid block after it: the segment was truncated there. */
        CORRUPT_TAIL_TRUNCATED,
        /** A segment index was missing or inconsistent and was rebuilt from the log. */
        INDEX_REBUILT,
        /** An orphan index (no segment) or leftover temp file was removed. */
        FILE_REMOVED,
        /** The anchor was missing, damaged or inconsistent and was rewritten from the log. */
        ANCHOR_REBUILT,
        /** Offsets jump between two segments (records lost by earlier truncation or corruption). */
        OFFSET_GAP,
        /** The shard could not be read at all; it is closed for writes and reported. */
        SHARD_UNREADABLE,
        /**
         * A segment sealed after a failed fsync (see {@link DurabilityException}) held bytes after
         * its last valid block: the failed batch, or acknowledged but never-fsynced blocks damaged
         * by a power loss. They were truncated; the later segments were kept.
         */
        SEALED_TAIL_TRUNCATED
    }

    /**
     * One finding. {@code position} is the byte position in {@code segment} (-1 if not applicable);
     * {@code firstLostOffset}/{@code lostRecords} describe the dropped records when known (-1 otherwise);
     * {@code lostBytes} the bytes removed or skipped.
     */
    public record Event(
            Kind kind,
            int shard,
            String segment,
            long position,
            long firstLostOffset,
            long lostRecords,
            long lostBytes,
            String detail) {
        @Override
        public String toString() {
            return kind + " shard=" + shard + " segment=" + segment + " position=" + position
                    + (firstLostOffset >= 0 ? " firstLostOffset=" + firstLostOffset : "")
                    + (lostRecords >= 0 ? " lostRecords=" + lostRecords : "")
                    + (lostBytes > 0 ? " lostBytes=" + lostBytes : "")
                    + (detail != null ? ": " + detail : "");
        }
    }

    private final List<Event> events = new ArrayList<>();

    RecoveryReport() {}

    /** Adds a finding once (a replay that meets the same damaged block again does not repeat it); bounded. */
    synchronized void add(Event e) {
        for (Event x : events) {
            if (x.kind() == e.kind()
                    && x.shard() == e.shard()
                    && x.position() == e.position()
                    && java.util.Objects.equals(x.segment(), e.segment())) return;
        }
        if (events.size() < 10_000) events.add(e);
    }

    /** True when nothing was truncated, skipped or rebuilt. */
    public synchronized boolean clean() {
        return events.isEmpty();
    }

    /** All findings in the order found. */
    public synchronized List<Event> events() {
        return Collections.unmodifiableList(new ArrayList<>(events));
    }

    /** Findings of one kind. */
    public synchronized List<Event> events(Kind kind) {
        List<Event> r = new ArrayList<>();
        for (Event e : events) if (e.kind() == kind) r.add(e);
        return r;
    }

    /** Number of findings of one kind. */
    public synchronized int count(Kind kind) {
        int n = 0;
        for (Event e : events) if (e.kind() == kind) n++;
        return n;
    }

    /** Shards that could not be read. */
    public synchronized List<Integer> failedShards() {
        List<Integer> r = new ArrayList<>();
        for (Event e : events) if (e.kind() == Kind.SHARD_UNREADABLE) r.add(e.shard());
        return r;
    }

    @Override
    public synchronized String toString() {
        if (events.isEmpty()) return "RecoveryReport{clean}";
        StringBuilder sb = new StringBuilder("RecoveryReport{");
        for (Event e : events) sb.append("\n  ").append(e);
        return sb.append("\n}").toString();
    }
}
