package io.tsdb.core;

import java.nio.ByteBuffer;
import java.util.Arrays;

/** A growable little byte buffer with varint writers; reused across commits (not thread-safe). */
final class ByteSink {
    byte[] buf;
    int pos;

    ByteSink(int initial) {
        buf = new byte[Math.max(16, initial)];
    }

    void reset() {
        pos = 0;
    }

    int size() {
        return pos;
    }

    void ensure(int extra) {
        if (pos + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + extra));
        }
    }

    void writeByte(int b) {
        ensure(1);
        buf[pos++] = (byte) b;
    }

    /** Unsigned LEB128 varint (1 to 10 bytes). Caller ensured 10 bytes of room. */
    void uvarintUnchecked(long v) {
        byte[] b = buf;
        int p = pos;
        while ((v & ~0x7FL) != 0) {
            b[p++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        b[p++] = (byte) v;
        pos = p;
    }

    void uvarint(long v) {
        ensure(10);
        uvarintUnchecked(v);
    }

    void svarint(long v) {
        uvarint((v << 1) ^ (v >> 63));
    }

    void writeLong(long v) {
        ensure(8);
        for (int i = 0; i < 8; i++) {
            buf[pos++] = (byte) (v >>> (56 - 8 * i));
        }
    }

    void writeInt(int v) {
        ensure(4);
        for (int i = 0; i < 4; i++) {
            buf[pos++] = (byte) (v >>> (24 - 8 * i));
        }
    }

    void writeBytes(byte[] b, int off, int len) {
        ensure(len);
        System.arraycopy(b, off, buf, pos, len);
        pos += len;
    }

    /** Writes a string as uvarint length + UTF-8 bytes. */
    void writeString(String s) {
        int len = Labels.utf8Length(s);
        ensure(10 + len);
        uvarintUnchecked(len);
        pos = Labels.encodeUtf8(s, buf, pos);
    }

    ByteBuffer toByteBuffer() {
        return ByteBuffer.wrap(buf, 0, pos);
    }

    byte[] toArray() {
        return Arrays.copyOf(buf, pos);
    }
}
