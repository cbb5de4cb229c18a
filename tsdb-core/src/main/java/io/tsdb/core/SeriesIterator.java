package io.tsdb.core;

import io.tsdb.core.chunk.Chunk;

/**
 * Iterates a snapshot of one series' chunk list lazily, chunk by chunk, restricted to
 * {@code mint <= t <= maxt}. Chunks entirely outside the range are skipped without decoding.
 */
final class SeriesIterator implements SampleIterator {
    private final Chunk[] chunks;
    private final long mint;
    private final long maxt;
    private int next;
    private SampleIterator cur;
    private long t;
    private double v;
    private boolean done;

    SeriesIterator(Chunk[] chunks, long mint, long maxt) {
        this.chunks = chunks;
        this.mint = mint;
        this.maxt = maxt;
    }

    @Override
    public boolean next() {
        while (!done) {
            if (cur == null) {
                if (!openNext(mint)) {
                    return false;
                }
            }
            if (cur.next()) {
                long ts = cur.timestamp();
                if (ts < mint) {
                    continue;
                }
                if (ts > maxt) {
                    done = true;
                    return false;
                }
                t = ts;
                v = cur.value();
                return true;
            }
            cur = null;
        }
        return false;
    }

    /** Opens the next chunk that may hold samples >= from; false when none is left. */
    private boolean openNext(long from) {
        while (next < chunks.length) {
            Chunk c = chunks[next++];
            if (c.numSamples() == 0) {
                continue;
            }
            if (c.minTime() > maxt) {
                done = true;
                return false;
            }
            // the open (last) chunk's maxTime may grow concurrently: never skip it by maxTime
            if (next < chunks.length && c.maxTime() < from) {
                continue;
            }
            cur = c.iterator();
            return true;
        }
        done = true;
        return false;
    }

    @Override
    public boolean seek(long target) {
        if (done) {
            return false;
        }
        if (cur != null && t >= target && t >= mint) {
            return true;
        }
        long from = Math.max(target, mint);
        // skip whole chunks that end before the target
        if (cur != null && next < chunks.length && chunks[next - 1].maxTime() < from) {
            cur = null;
        }
        while (!done) {
            if (cur == null && !openNext(from)) {
                return false;
            }
            if (cur.seek(from)) {
                long ts = cur.timestamp();
                if (ts > maxt) {
                    done = true;
                    return false;
                }
                t = ts;
                v = cur.value();
                return true;
            }
            cur = null;
        }
        return false;
    }

    @Override
    public long timestamp() {
        return t;
    }

    @Override
    public double value() {
        return v;
    }
}
