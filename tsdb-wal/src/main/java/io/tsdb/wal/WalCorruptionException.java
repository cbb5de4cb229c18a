package io.tsdb.wal;

/** Corruption found in a shard's log, with where it is. */
public class WalCorruptionException extends WalException {
    private final int shard;
    private final String segment;
    private final long position;

    public WalCorruptionException(int shard, String segment, long position, String message) {
        super("shard " + shard + " segment " + segment + " position " + position + ": " + message);
        this.shard = shard;
        this.segment = segment;
        this.position = position;
    }

    public int shard() {
        return shard;
    }

    public String segment() {
        return segment;
    }

    public long position() {
        return position;
    }
}
