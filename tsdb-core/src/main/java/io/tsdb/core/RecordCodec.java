package io.tsdb.core;

/**
 * The WAL record codec (specified byte by byte in {@code docs/record-format.md}). Every record
 * starts with one byte: the record type in the high nibble, the format version in the low nibble.
 * Records are self-contained: a SAMPLES record needs only the series refs declared by earlier
 * SERIES records of the same shard.
 *
 * <pre>
 * SERIES  v1: 0x11 | uvarint count | count x ( uvarint ref | uvarint nLabels |
 *                                              nLabels x ( uvarint len | UTF-8 name | uvarint len | UTF-8 value ) )
 * SAMPLES v1: 0x21 | uvarint count (>= 1)
 *             | count x svarint (ref_i - ref_{i-1})        (ref_{-1} = 0)
 *             | svarint baseT | count x svarint (t_i - baseT) (64-bit wrapping arithmetic)
 *             | count x value_i, value_i = XOR of the IEEE-754 bits with the previous value's bits
 *               in this record (the first with 0), as a tag byte (high nibble: trailing zero
 *               bytes, low nibble: significant byte count n) + n bytes, most significant first;
 *               a zero XOR is the single byte 0x00.
 * </pre>
 */
final class RecordCodec {
    static final int TYPE_SERIES = 1;
    static final int TYPE_SAMPLES = 2;
    static final int VERSION = 1;
    static final byte SERIES_V1 = (byte) ((TYPE_SERIES << 4) | VERSION);
    static final byte SAMPLES_V1 = (byte) ((TYPE_SAMPLES << 4) | VERSION);

    /** Max samples per SAMPLES record (bounds record size to ~200 KiB). */
    static final int MAX_SAMPLES_PER_RECORD = 8192;
    /** A SERIES record is cut once it holds this many bytes. */
    static final int MAX_SERIES_RECORD_BYTES = 256 * 1024;

    static final int MAX_LABELS = 1 << 16;
    static final int MAX_STRING = 1 << 24;

    private RecordCodec() {}

    static int type(byte first) {
        return (first >> 4) & 0x0F;
    }

    // ---------------------------------------------------------------- SERIES

    static void beginSeries(ByteSink out) {
        out.reset();
        out.writeByte(SERIES_V1);
        // reserve a fixed 5-byte count slot (padded varint) so series can be appended one by one
        out.ensure(5);
        out.pos += 5;
    }

    static void addSeries(ByteSink out, int ref, Labels labels) {
        String[] nv = labels.raw();
        out.uvarint(ref);
        out.uvarint(nv.length >> 1);
        for (String s : nv) {
            out.writeString(s);
        }
    }

    /** Writes the count into the reserved slot as a 5-byte (padded) varint. */
    static void endSeries(ByteSink out, int count) {
        int p = 1;
        long v = count;
        for (int i = 0; i < 4; i++) {
            out.buf[p++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.buf[p] = (byte) (v & 0x7F);
    }

    /** Receives decoded series. */
    interface SeriesVisitor {
        void series(int ref, String[] sortedNamesAndValues);
    }

    static int decodeSeries(ByteSource in, SeriesVisitor visitor) {
        int first = in.readByte();
        if (first != (SERIES_V1 & 0xFF)) {
            throw new CorruptRecordException("not a SERIES v1 record: first byte 0x" + Integer.toHexString(first));
        }
        int count = in.uvarintInt(in.remaining() / 2, "series count");
        for (int i = 0; i < count; i++) {
            decodeOneSeries(in, visitor);
        }
        if (in.hasRemaining()) {
            throw new CorruptRecordException("SERIES record has " + in.remaining() + " trailing bytes");
        }
        return count;
    }

    /**
     * One series entry. A method of its own so that the JIT compiles this body once as a normal
     * method instead of on-stack-replacing the whole record loop (a SERIES record of a replay can
     * hold thousands of series).
     */
    private static void decodeOneSeries(ByteSource in, SeriesVisitor visitor) {
        int ref = in.uvarintInt(Integer.MAX_VALUE, "series ref");
        int n = in.uvarintInt(Math.min(MAX_LABELS, in.remaining() / 2), "label count");
        String[] nv = new String[2 * n];
        for (int j = 0; j < 2 * n; j++) {
            nv[j] = in.readString(MAX_STRING);
        }
        for (int j = 0; j < n; j++) {
            if (nv[2 * j].isEmpty() || nv[2 * j + 1].isEmpty() || (j > 0 && nv[2 * j - 2].compareTo(nv[2 * j]) >= 0)) {
                throw new CorruptRecordException("series " + ref + ": labels not sorted, duplicated or empty");
            }
        }
        visitor.series(ref, nv);
    }

    // ---------------------------------------------------------------- SAMPLES

    /** Encodes samples {@code [0, n)} of the arrays as one SAMPLES record into {@code out} (reset first). */
    static void encodeSamples(ByteSink out, int[] refs, long[] ts, long[] bits, int from, int to) {
        int n = to - from;
        out.reset();
        out.ensure(1 + 5 + n * 25 + 10);
        byte[] b = out.buf;
        b[0] = SAMPLES_V1;
        out.pos = 1;
        out.uvarintUnchecked(n);
        long prev = 0;
        for (int i = from; i < to; i++) {
            long d = (long) refs[i] - prev;
            prev = refs[i];
            out.uvarintUnchecked((d << 1) ^ (d >> 63));
        }
        long base = ts[from];
        out.uvarintUnchecked((base << 1) ^ (base >> 63));
        for (int i = from; i < to; i++) {
            long d = ts[i] - base;
            out.uvarintUnchecked((d << 1) ^ (d >> 63));
        }
        long pv = 0;
        int p = out.pos;
        for (int i = from; i < to; i++) {
            long x = bits[i] ^ pv;
            pv = bits[i];
            if (x == 0) {
                b[p++] = 0;
            } else {
                int lzb = Long.numberOfLeadingZeros(x) >>> 3;
                int tzb = Long.numberOfTrailingZeros(x) >>> 3;
                int nb = 8 - lzb - tzb;
                b[p++] = (byte) ((tzb << 4) | nb);
                long y = x >>> (tzb << 3);
                for (int k = (nb - 1) << 3; k >= 0; k -= 8) {
                    b[p++] = (byte) (y >>> k);
                }
            }
        }
        out.pos = p;
    }

    /** Scratch arrays for decoding SAMPLES records (one per replay thread). */
    static final class SampleBatch {
        int count;
        int[] refs = new int[1024];
        long[] ts = new long[1024];
        long[] bits = new long[1024];

        void ensure(int n) {
            if (refs.length < n) {
                int cap = Math.max(n, refs.length * 2);
                refs = new int[cap];
                ts = new long[cap];
                bits = new long[cap];
            }
        }
    }

    /** Decodes one SAMPLES record into {@code batch}; returns the sample count. */
    static int decodeSamples(ByteSource in, SampleBatch batch) {
        int n = decodeSampleKeys(in, batch);
        decodeSampleValues(in, batch, n);
        return n;
    }

    /**
     * Decodes the ref and timestamp columns of a SAMPLES record into {@code batch} and leaves
     * {@code in} at the value column (for {@link #decodeSampleValues}, which a replay skips when
     * every sample of the record is already in the head). Returns the sample count.
     */
    static int decodeSampleKeys(ByteSource in, SampleBatch batch) {
        int first = in.readByte();
        if (first != (SAMPLES_V1 & 0xFF)) {
            throw new CorruptRecordException("not a SAMPLES v1 record: first byte 0x" + Integer.toHexString(first));
        }
        // each sample takes at least 3 bytes: this bounds the allocation by the record size
        int n = in.uvarintInt(in.remaining() / 3, "sample count");
        batch.ensure(n);
        batch.count = 0;
        int[] refs = batch.refs;
        long[] ts = batch.ts;
        long[] bits = batch.bits;
        byte[] buf = in.buf;
        long prev = 0;
        for (int i = 0; i < n; i++) {
            long u;
            int x;
            // fast path: a one-byte varint (the common case: refs step by the shard count)
            if (in.pos < in.end && (x = buf[in.pos]) >= 0) {
                in.pos++;
                u = x;
            } else {
                u = in.uvarint();
            }
            long r = prev + ((u >>> 1) ^ -(u & 1));
            if (r < 0 || r > Integer.MAX_VALUE) {
                throw new CorruptRecordException("sample ref out of range: " + r);
            }
            refs[i] = (int) r;
            prev = r;
        }
        long base = in.svarint();
        for (int i = 0; i < n; i++) {
            long u;
            int x;
            if (in.pos < in.end && (x = buf[in.pos]) >= 0) {
                in.pos++;
                u = x;
            } else {
                u = in.uvarint();
            }
            ts[i] = base + ((u >>> 1) ^ -(u & 1));
        }
        return n;
    }

    /** Decodes the value column of a record whose keys {@link #decodeSampleKeys} decoded ({@code n} samples). */
    static void decodeSampleValues(ByteSource in, SampleBatch batch, int n) {
        long[] bits = batch.bits;
        byte[] b = in.buf;
        int p = in.pos;
        int end = in.end;
        long pv = 0;
        for (int i = 0; i < n; i++) {
            if (p >= end) {
                throw new CorruptRecordException("truncated value column at sample " + i);
            }
            int tag = b[p++] & 0xFF;
            long x;
            if (tag == 0) {
                x = 0;
            } else {
                int nb = tag & 0x0F;
                int tzb = tag >>> 4;
                if (nb == 0 || nb + tzb > 8 || end - p < nb) {
                    throw new CorruptRecordException("bad value tag 0x" + Integer.toHexString(tag) + " at sample " + i);
                }
                long y = 0;
                for (int k = 0; k < nb; k++) {
                    y = (y << 8) | (b[p++] & 0xFFL);
                }
                x = y << (tzb << 3);
            }
            pv ^= x;
            bits[i] = pv;
        }
        in.pos = p;
        if (p != end) {
            throw new CorruptRecordException("SAMPLES record has " + (end - p) + " trailing bytes");
        }
        batch.count = n;
    }
}
