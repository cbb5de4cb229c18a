package io.tsdb.wal;

/** Outcome of a replay: records and raw bytes handed to handlers, wall time. */
public record ReplayResult(long records, long rawBytes, long blocks, double seconds) {
    public double recordsPerSecond() {
        return seconds > 0 ? records / seconds : 0;
    }

    public double bytesPerSecond() {
        return seconds > 0 ? rawBytes / seconds : 0;
    }
}
