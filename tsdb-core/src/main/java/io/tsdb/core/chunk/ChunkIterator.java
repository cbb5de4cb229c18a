package io.tsdb.core.chunk;

import io.tsdb.core.SampleIterator;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Decodes the bit stream of a chunk (format in {@code docs/chunk-format.md}): a snapshot of
 * {@code n} samples read from {@code data[start, limit)}. It is the live-chunk iterator, the
 * validator of {@link Chunk#fromBytes} and the source of the INT_DOD to XOR re-encoding.
 *
 * <p>Every read is bounded by {@code limit} and every sample consumes at least two bits, so
 * decoding garbage ends with an {@link IllegalArgumentException} ("corrupt chunk: ...") after a
 * bounded amount of work; it never allocates. Reads 64 bits at a time (big-endian) into a buffer.
 * Not thread-safe; one iterator per reader.
 */
final class ChunkIterator implements SampleIterator {
    static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    /** Largest magnitude of an INT_DOD value: 2^53 - 1. */
    static final long MAX_INT_VALUE = (1L << 53) - 1;

    /** XOR window state meaning "no window yet" (a leading-zero count can never be 64 in the stream). */
    static final int NO_WINDOW = 64;

    private final byte[] data;
    private final int start;
    private final int limit;
    private final int n;
    private final boolean intMode;

    // bit reader
    private long buffer;
    private int valid;
    private int pos;

    // decode state (read by Chunk.fromBytes and the re-encoder to resume writing)
    int index;
    long t;
    long deltaT;
    long valueBits;
    int lead = NO_WINDOW;
    int trail;
    long intValue;
    long intDelta;
    private double value;

    ChunkIterator(byte[] data, int start, int limit, Encoding encoding, int n) {
        this.data = data;
        this.start = start;
        this.limit = limit;
        this.pos = start;
        this.n = n;
        this.intMode = encoding == Encoding.INT_DOD;
    }

    @Override
    public boolean next() {
        final int k = index;
        if (k >= n) {
            return false;
        }
        if (intMode && k >= 2 && valid >= 2 && ((buffer >>> (valid - 2)) & 3) == 0) {
            // fast path: both delta-of-deltas are zero (constant scrape interval and rate)
            valid -= 2;
            long nt = t + deltaT;
            long x = intValue + intDelta;
            if (nt <= t || x > MAX_INT_VALUE || x < -MAX_INT_VALUE) {
                throw corrupt("timestamp not increasing or integer value out of range at sample " + k);
            }
            t = nt;
            intValue = x;
            value = (double) x;
            index = k + 1;
            return true;
        }
        // timestamp
        if (k >= 2) {
            long d = deltaT + readDod();
            long nt = t + d;
            if (nt <= t) {
                throw corrupt("timestamp not increasing at sample " + k);
            }
            deltaT = d;
            t = nt;
        } else if (k == 1) {
            long d = readUvarint();
            long nt = t + d;
            if (nt <= t) {
                throw corrupt("timestamp not increasing at sample 1");
            }
            deltaT = d;
            t = nt;
        } else {
            t = unzigzag(readUvarint());
        }
        // value
        if (intMode) {
            long x;
            if (k >= 2) {
                intDelta += readDod();
                x = intValue + intDelta;
            } else if (k == 1) {
                intDelta = unzigzag(readUvarint());
                x = intValue + intDelta;
            } else {
                x = unzigzag(readUvarint());
            }
            if (x > MAX_INT_VALUE || x < -MAX_INT_VALUE) {
                throw corrupt("integer value out of range at sample " + k);
            }
            intValue = x;
            value = (double) x;
        } else {
            if (k == 0) {
                valueBits = readBits(64);
            } else if (readBit() != 0) {
                long xor;
                if (readBit() == 0) {
                    if (lead == NO_WINDOW) {
                        throw corrupt("XOR window reused before one was set at sample " + k);
                    }
                    int tr = trail;
                    xor = readBits(64 - lead - tr) << tr;
                } else {
                    int h = (int) readBits(11);
                    int ld = h >>> 6;
                    int sig = h & 63;
                    if (sig == 0) {
                        sig = 64;
                    }
                    if (ld + sig > 64) {
                        throw corrupt("XOR window out of range at sample " + k);
                    }
                    int tr = 64 - ld - sig;
                    xor = readBits(sig) << tr;
                    lead = ld;
                    trail = tr;
                }
                valueBits ^= xor;
            }
            value = Double.longBitsToDouble(valueBits);
        }
        index = k + 1;
        return true;
    }

    @Override
    public boolean seek(long target) {
        if (index > 0 && t >= target) {
            return true;
        }
        while (next()) {
            if (t >= target) {
                return true;
            }
        }
        return false;
    }

    @Override
    public long timestamp() {
        return t;
    }

    @Override
    public double value() {
        return value;
    }

    /** Bits consumed so far, counted from {@code start}. */
    int bitPosition() {
        return (pos - start) * 8 - valid;
    }

    private long readDod() {
        if (readBit() == 0) {
            return 0;
        }
        int bits;
        if (readBit() == 0) {
            bits = 14;
        } else if (readBit() == 0) {
            bits = 17;
        } else if (readBit() == 0) {
            bits = 20;
        } else {
            return readBits(64);
        }
        long v = readBits(bits);
        if (v > (1L << (bits - 1))) {
            v -= 1L << bits;
        }
        return v;
    }

    private long readUvarint() {
        long x = 0;
        int shift = 0;
        for (int i = 0; i < 10; i++) {
            long b = readBits(8);
            if (i == 9 && b > 1) {
                throw corrupt("varint overflows 64 bits");
            }
            x |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return x;
            }
            shift += 7;
        }
        throw corrupt("varint longer than 10 bytes");
    }

    static long unzigzag(long x) {
        return (x >>> 1) ^ -(x & 1);
    }

    private int readBit() {
        if (valid == 0) {
            refill();
        }
        int v = valid - 1;
        valid = v;
        return (int) (buffer >>> v) & 1;
    }

    /** Reads k bits, 1 &lt;= k &lt;= 64, most significant first. */
    private long readBits(int k) {
        int v = valid;
        if (k <= v) {
            v -= k;
            valid = v;
            return (buffer >>> v) & (-1L >>> (64 - k));
        }
        long hi = v == 0 ? 0 : buffer & (-1L >>> (64 - v));
        int need = k - v;
        refill();
        if (need > valid) {
            throw corrupt("truncated bit stream");
        }
        int rest = valid - need;
        valid = rest;
        long lo = (buffer >>> rest) & (-1L >>> (64 - need));
        return need == 64 ? lo : (hi << need) | lo;
    }

    private void refill() {
        int p = pos;
        if (p + 8 <= limit) {
            buffer = (long) LONG_BE.get(data, p);
            pos = p + 8;
            valid = 64;
        } else if (p < limit) {
            long b = 0;
            int bits = 0;
            while (p < limit) {
                b = (b << 8) | (data[p++] & 0xFF);
                bits += 8;
            }
            buffer = b;
            valid = bits;
            pos = p;
        } else {
            throw corrupt("truncated bit stream");
        }
    }

    static IllegalArgumentException corrupt(String what) {
        return new IllegalArgumentException("corrupt chunk: " + what);
    }
}
