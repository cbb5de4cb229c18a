package io.tsdb.core;

import java.nio.charset.StandardCharsets;

/** Bounds-checked reader over a byte range; every malformed input throws {@link CorruptRecordException}. */
final class ByteSource {
    byte[] buf;
    int pos;
    int end;

    ByteSource() {}

    ByteSource(byte[] buf, int off, int len) {
        reset(buf, off, len);
    }

    void reset(byte[] b, int off, int len) {
        this.buf = b;
        this.pos = off;
        this.end = off + len;
    }

    boolean hasRemaining() {
        return pos < end;
    }

    int remaining() {
        return end - pos;
    }

    int readByte() {
        if (pos >= end) {
            throw new CorruptRecordException("unexpected end of data at byte " + pos);
        }
        return buf[pos++] & 0xFF;
    }

    long uvarint() {
        byte[] b = buf;
        int p = pos;
        int e = end;
        long result = 0;
        int shift = 0;
        while (true) {
            if (p >= e) {
                throw new CorruptRecordException("truncated varint at byte " + p);
            }
            int x = b[p++];
            if (x >= 0) {
                if (shift == 63 && x > 1) {
                    throw new CorruptRecordException("varint overflows 64 bits at byte " + (p - 1));
                }
                result |= (long) x << shift;
                pos = p;
                return result;
            }
            result |= (long) (x & 0x7F) << shift;
            shift += 7;
            if (shift > 63) {
                throw new CorruptRecordException("varint longer than 10 bytes at byte " + p);
            }
        }
    }

    long svarint() {
        long u = uvarint();
        return (u >>> 1) ^ -(u & 1);
    }

    /** A uvarint that must fit in [0, max]. */
    int uvarintInt(long max, String what) {
        long v = uvarint();
        if (v < 0 || v > max) {
            throw new CorruptRecordException(what + " out of range: " + Long.toUnsignedString(v) + " > " + max);
        }
        return (int) v;
    }

    long readLong() {
        if (end - pos < 8) {
            throw new CorruptRecordException("unexpected end of data reading 8 bytes at byte " + pos);
        }
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (buf[pos++] & 0xFFL);
        }
        return v;
    }

    int readInt() {
        if (end - pos < 4) {
            throw new CorruptRecordException("unexpected end of data reading 4 bytes at byte " + pos);
        }
        int v = 0;
        for (int i = 0; i < 4; i++) {
            v = (v << 8) | (buf[pos++] & 0xFF);
        }
        return v;
    }

    /**
     * Reads a length-prefixed UTF-8 label name or value, interned: a replay or checkpoint load
     * decodes the same names (and often values) for every series, and one shared instance per
     * distinct string keeps them out of the heap and the collector's way (the JVM's string table
     * holds interned strings weakly, so nothing accumulates once the series are gone).
     */
    String readString(int maxLen) {
        // bound by what remains after the length varint itself (remaining() before it would let a
        // length reach into the varint's bytes and past the end: StringIndexOutOfBoundsException)
        long v = uvarint();
        if (v < 0 || v > Math.min(maxLen, remaining())) {
            throw new CorruptRecordException("string length out of range: " + Long.toUnsignedString(v) + " > "
                    + Math.min(maxLen, remaining()) + " bytes left");
        }
        int len = (int) v;
        String s = new String(buf, pos, len, StandardCharsets.UTF_8).intern();
        pos += len;
        return s;
    }
}
