package io.tsdb.core.chunk;

import io.tsdb.core.SampleIterator;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * An append-only compressed chunk of samples of one series: Gorilla delta-of-delta timestamps and
 * either {@link Encoding#INT_DOD} or {@link Encoding#XOR} values, chosen adaptively. The byte format
 * is specified in {@code docs/chunk-format.md}.
 *
 * <p>A new chunk starts optimistic as INT_DOD. The first value that is not an integer-valued double
 * in (-2^53, 2^53) (or is -0.0, NaN, ±Inf) makes the chunk re-encode the samples it holds as XOR
 * and continue in XOR; a chunk never switches back. At most {@link #TARGET_SAMPLES} samples.
 *
 * <p>Threading: one writer thread calls {@link #append}, {@link #seal}; any number of reader threads
 * may concurrently call {@link #iterator}, {@link #toBytes}, {@link #numSamples}, {@link #minTime},
 * {@link #maxTime}, {@link #lastValue}, {@link #encoding} and {@link #sizeBytes}. A reader sees a
 * consistent prefix: after each append the writer publishes the new sample count with release
 * semantics; a reader acquires the count first and then the buffer, which always holds at least
 * that many samples (buffer growth and re-encoding publish a new buffer, never rewrite published
 * bits). {@link #sizeBytes} read from another thread may lag by one append. The writer-side calls
 * also include {@link #appendUnshared} and {@link #publish} (WAL replay before the chunk is shared:
 * no per-sample publication, one {@code publish()} at the end).
 *
 * <p>Memory: the encoder state lives in a separate object that {@link #seal} drops, so a sealed
 * chunk (most of a head) is about 56 bytes of object plus its exact-size buffer and snapshot.
 */
public final class Chunk {
    /** Samples per chunk: {@link #append} returns false once a chunk holds this many. */
    public static final int TARGET_SAMPLES = 120;
    /** Version byte written at offset 0 of {@link #toBytes()}. */
    public static final int FORMAT_VERSION = 1;
    /** Header: version (1), encoding (1), sample count (u16 big-endian). */
    static final int HEADER_BYTES = 4;
    /** Trailer: CRC32C (big-endian) of header and payload. */
    static final int CRC_BYTES = 4;
    /** Largest sample count the header can state. */
    static final int MAX_ENCODED_SAMPLES = 0xFFFF;

    private static final int INITIAL_CAPACITY = 32;
    /** Room an append needs past the current word: one sample takes at most 160 bits (2 varints). */
    private static final int APPEND_SLACK = 32;
    /** Cap on {@link #create(int)}'s capacity hint (a full XOR chunk rarely needs more). */
    private static final int MAX_HINT_BYTES = 2048;

    private static final VarHandle LONG_BE = ChunkIterator.LONG_BE;
    private static final VarHandle PUBLISHED;
    private static final VarHandle MIN_T;
    private static final VarHandle MAX_T;
    private static final VarHandle LAST_V;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            PUBLISHED = l.findVarHandle(Chunk.class, "published", long.class);
            MIN_T = l.findVarHandle(Chunk.class, "minT", long.class);
            MAX_T = l.findVarHandle(Chunk.class, "maxT", long.class);
            LAST_V = l.findVarHandle(Chunk.class, "lastVBits", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The buffer readers decode and the encoding of its bits; replaced (never mutated) on growth / re-encoding. */
    private static final class State {
        final byte[] buf;
        /** The chunk's bytes are {@code buf[off, end)}: all of buf, or a slice of a {@link Slab}. */
        final int off;

        final int end;
        final Encoding enc;

        State(byte[] buf, Encoding enc) {
            this(buf, 0, buf.length, enc);
        }

        State(byte[] buf, int off, int end, Encoding enc) {
            this.buf = buf;
            this.off = off;
            this.end = end;
            this.enc = enc;
        }
    }

    /**
     * Packs the payloads of many sealed chunks into shared arrays (bulk loads): one array object
     * per {@value #SLAB_BYTES} bytes instead of one per chunk, which the garbage collector copies
     * as a block. A slab stays reachable while any of its chunks is.
     */
    public static final class Slab {
        static final int SLAB_BYTES = 64 << 10;
        private byte[] cur = new byte[0];
        private int pos;

        /** Copies {@code b[off, off+len)} into the current slab; returns the slab and sets {@link #lastOffset}. */
        byte[] place(byte[] b, int off, int len) {
            if (cur.length - pos < len) {
                cur = new byte[Math.max(SLAB_BYTES, len)];
                pos = 0;
            }
            System.arraycopy(b, off, cur, pos, len);
            lastOffset = pos;
            pos += len;
            return cur;
        }

        int lastOffset;
    }

    // ---- writer-only state: the encoder, dropped by seal() (a sealed chunk keeps only what readers
    // need: ~56 bytes instead of ~128 per chunk, most of the head's chunks) and rebuilt by decoding
    // if a sealed chunk is appended to again ----
    private Writer w;

    // ---- shared with readers ----
    private volatile State state;
    /** (count << 32) | bit length, written with release, read with acquire. */
    @SuppressWarnings("unused")
    private long published;

    @SuppressWarnings("unused")
    private long minT = Long.MAX_VALUE;

    @SuppressWarnings("unused")
    private long maxT = Long.MIN_VALUE;

    @SuppressWarnings("unused")
    private long lastVBits = Double.doubleToRawLongBits(Double.NaN);

    private Chunk(Writer w) {
        this.w = w;
        this.state = new State(w.buf, w.enc);
    }

    /** A sealed chunk (no encoder) reading {@code s}. */
    private Chunk(State s) {
        this.state = s;
    }

    /** {@return an empty open chunk (starts as INT_DOD, switches to XOR on the first non-integer value)} */
    public static Chunk create() {
        return new Chunk(new Writer(new byte[INITIAL_CAPACITY], Encoding.INT_DOD));
    }

    /**
     * An empty open chunk whose buffer starts with room for about {@code expectedPayloadBytes} of
     * encoded samples (e.g. the size of the series' previous chunk), so that a chunk that ends up
     * that large never grows its buffer. Values below the default capacity give the default.
     *
     * @param expectedPayloadBytes capacity hint in bytes (capped)
     * @return an empty open chunk
     */
    public static Chunk create(int expectedPayloadBytes) {
        int want = Math.min(Math.max(expectedPayloadBytes, 0), MAX_HINT_BYTES) + APPEND_SLACK + 8;
        return new Chunk(new Writer(new byte[roundUp8(Math.max(INITIAL_CAPACITY, want))], Encoding.INT_DOD));
    }

    /** The encoder; rebuilt from the published snapshot after {@link #seal()}. Writer thread only. */
    private Writer writer() {
        Writer x = w;
        if (x == null) {
            State s = state;
            int c = (int) (published >>> 32);
            int bits = (int) published;
            ChunkIterator it = new ChunkIterator(s.buf, s.off, s.end, s.enc, c);
            while (it.next()) {
                // decode only: leaves the encoder state of the last sample in it
            }
            x = Writer.restore(s.buf, s.off, (bits + 7) / 8, s.enc, c, it);
            w = x;
            state = new State(x.buf, x.enc);
        }
        return x;
    }

    /**
     * Appends a sample.
     *
     * @param t timestamp, ms since the epoch
     * @param v value (bits kept exactly)
     * @return false if the chunk already holds {@link #TARGET_SAMPLES} samples (the caller starts a new chunk)
     * @throws IllegalArgumentException if {@code t} is not greater than the last appended timestamp
     */
    public boolean append(long t, double v) {
        if ((int) (published >>> 32) >= TARGET_SAMPLES) {
            return false;
        }
        final Writer x = writer();
        final int c = x.n;
        if (c > 0 && t <= x.lastT) {
            throw outOfOrder(t, x.lastT);
        }
        if (x.enc == Encoding.INT_DOD && !isIntegral(v)) {
            x.switchToXor();
            state = new State(x.buf, x.enc);
        }
        if (x.buf.length - x.wordByte < APPEND_SLACK) {
            x.grow();
            state = new State(x.buf, x.enc);
        }
        x.encode(c, t, v);
        LONG_BE.set(x.buf, x.wordByte, x.acc);
        x.n = c + 1;
        if (c == 0) {
            MIN_T.setOpaque(this, t);
        }
        MAX_T.setOpaque(this, t);
        LAST_V.setOpaque(this, Double.doubleToRawLongBits(v));
        PUBLISHED.setRelease(this, ((long) (c + 1) << 32) | (x.wordByte * 8L + x.accBits));
        return true;
    }

    /**
     * {@link #append} for a chunk that no other thread can reach yet (WAL replay before the store
     * is handed out): the same encoding, but the count, bounds and last value are plain stores and
     * buffer growth does not publish a new reader snapshot. Call {@link #publish()} before any
     * other method reads the chunk (the writer's own {@link #iterator()} included) and before the
     * chunk is shared; the sharing itself must be a happens-before edge (e.g. a thread join or a
     * {@code Future.get()}). {@link #seal()} publishes too.
     *
     * @param t timestamp, ms since the epoch
     * @param v value (bits kept exactly)
     * @return false if the chunk already holds {@link #TARGET_SAMPLES} samples
     * @throws IllegalArgumentException if {@code t} is not greater than the last appended timestamp
     */
    public boolean appendUnshared(long t, double v) {
        if ((int) (published >>> 32) >= TARGET_SAMPLES) {
            return false;
        }
        final Writer x = writer();
        final int c = x.n;
        if (c > 0 && t <= x.lastT) {
            throw outOfOrder(t, x.lastT);
        }
        if (x.enc == Encoding.INT_DOD && !isIntegral(v)) {
            x.switchToXor();
        }
        if (x.buf.length - x.wordByte < APPEND_SLACK) {
            x.grow();
        }
        x.encode(c, t, v);
        LONG_BE.set(x.buf, x.wordByte, x.acc);
        x.n = c + 1;
        if (c == 0) {
            minT = t;
        }
        maxT = t;
        lastVBits = Double.doubleToRawLongBits(v);
        published = ((long) (c + 1) << 32) | (x.wordByte * 8L + x.accBits);
        return true;
    }

    /** Makes samples added by {@link #appendUnshared} visible to {@link #iterator()} and {@link #toBytes()}. */
    public void publish() {
        Writer x = w;
        if (x != null) {
            State s = state;
            if (s.buf != x.buf || s.enc != x.enc) {
                state = new State(x.buf, x.enc);
            }
        }
        PUBLISHED.setRelease(this, published);
    }

    private static IllegalArgumentException outOfOrder(long t, long lastT) {
        return new IllegalArgumentException(
                "out-of-order sample: timestamp " + t + " is not after the chunk's last timestamp " + lastT);
    }

    /** True if INT_DOD represents v exactly: an integer in (-2^53, 2^53), and not -0.0. */
    static boolean isIntegral(double v) {
        long i = (long) v;
        return i == v
                && i <= ChunkIterator.MAX_INT_VALUE
                && i >= -ChunkIterator.MAX_INT_VALUE
                && (i != 0 || Double.doubleToRawLongBits(v) == 0L);
    }

    /** {@return the number of samples published so far} */
    public int numSamples() {
        return (int) ((long) PUBLISHED.getAcquire(this) >>> 32);
    }

    /** {@return the first timestamp, or {@code Long.MAX_VALUE} when empty} */
    public long minTime() {
        return numSamples() == 0 ? Long.MAX_VALUE : (long) MIN_T.getOpaque(this);
    }

    /** {@return the last timestamp, or {@code Long.MIN_VALUE} when empty} */
    public long maxTime() {
        return numSamples() == 0 ? Long.MIN_VALUE : (long) MAX_T.getOpaque(this);
    }

    /** {@return the last value (bit-exact), or NaN when empty} */
    public double lastValue() {
        if (lazyLast) {
            // a sealed chunk loaded without its last value (checkpoints): decode it once, on demand
            int c = numSamples();
            State s = state;
            ChunkIterator it = new ChunkIterator(s.buf, s.off, s.end, s.enc, c);
            double v = Double.NaN;
            while (it.next()) {
                v = it.value();
            }
            LAST_V.setOpaque(this, Double.doubleToRawLongBits(v));
            lazyLast = false;
            return v;
        }
        return Double.longBitsToDouble((long) LAST_V.getOpaque(this));
    }

    /** The last value is not known yet ({@link #fromSealedBytes} without one); set once, then false. */
    private volatile boolean lazyLast;

    /** {@return the current value encoding (INT_DOD until the chunk switched to XOR)} */
    public Encoding encoding() {
        return state.enc;
    }

    /** {@return the size of {@link #toBytes()}: header, payload and CRC (the figure reported as head bytes)} */
    public int sizeBytes() {
        long p = (long) PUBLISHED.getAcquire(this);
        int bits = (int) p;
        return HEADER_BYTES + (bits + 7) / 8 + CRC_BYTES;
    }

    /** {@return an iterator over a snapshot of the samples appended so far; safe while one writer keeps appending} */
    public SampleIterator iterator() {
        int c = numSamples();
        if (c == 0) {
            return SampleIterator.EMPTY;
        }
        State s = state; // read after the count: holds at least c samples
        return new ChunkIterator(s.buf, s.off, s.end, s.enc, c);
    }

    /**
     * Trims the buffer to the encoded size (call when the chunk is closed) and drops the encoder
     * state; appending afterwards still works (the encoder is rebuilt by decoding the chunk).
     */
    public void seal() {
        Writer x = w;
        if (x == null) {
            return;
        }
        int bytes = (x.wordByte * 8 + x.accBits + 7) / 8;
        byte[] b = x.buf.length != bytes ? Arrays.copyOf(x.buf, bytes) : x.buf;
        State s = state;
        if (s.buf != b || s.enc != x.enc) {
            state = new State(b, x.enc);
        }
        PUBLISHED.setRelease(this, published);
        w = null;
    }

    /**
     * The self-contained encoded form: version, encoding, count, payload, CRC32C. Safe from a reader
     * thread (encodes a consistent snapshot).
     *
     * @return a new array
     */
    public byte[] toBytes() {
        long p = (long) PUBLISHED.getAcquire(this);
        int c = (int) (p >>> 32);
        State s = state; // read after the count: holds at least c samples
        int bits;
        if (c == 0 || c >= TARGET_SAMPLES) {
            // a full chunk never changes encoding again, so the published bit length matches s
            bits = (int) p;
        } else {
            // an open chunk may have switched INT_DOD -> XOR after p was published: decode the
            // snapshot in s's encoding to find where its c samples end
            ChunkIterator it = new ChunkIterator(s.buf, s.off, s.end, s.enc, c);
            while (it.next()) {
                // decode only
            }
            bits = it.bitPosition();
        }
        int payload = (bits + 7) / 8;
        byte[] out = new byte[HEADER_BYTES + payload + CRC_BYTES];
        out[0] = (byte) FORMAT_VERSION;
        out[1] = (byte) s.enc.code();
        out[2] = (byte) (c >>> 8);
        out[3] = (byte) c;
        System.arraycopy(s.buf, s.off, out, HEADER_BYTES, payload);
        if ((bits & 7) != 0) { // clear bits of a later sample that share the last byte
            out[HEADER_BYTES + payload - 1] &= (byte) (0xFF << (8 - (bits & 7)));
        }
        int crcAt = HEADER_BYTES + payload;
        CRC32C crc = new CRC32C();
        crc.update(out, 0, crcAt);
        int v = (int) crc.getValue();
        out[crcAt] = (byte) (v >>> 24);
        out[crcAt + 1] = (byte) (v >>> 16);
        out[crcAt + 2] = (byte) (v >>> 8);
        out[crcAt + 3] = (byte) v;
        return out;
    }

    /**
     * Decodes and validates a chunk written by {@link #toBytes()}. The result can be appended to
     * (if it holds fewer than {@link #TARGET_SAMPLES} samples).
     *
     * @param b   the bytes
     * @param off where the chunk starts in {@code b}
     * @param len the chunk's length in bytes
     * @return the decoded chunk
     * @throws IllegalArgumentException "corrupt chunk: ..." if the bytes are not a valid chunk
     */
    public static Chunk fromBytes(byte[] b, int off, int len) {
        if (b == null) {
            throw new IllegalArgumentException("corrupt chunk: null byte array");
        }
        if (off < 0 || len < 0 || off > b.length - len) {
            throw new IllegalArgumentException(
                    "corrupt chunk: range off=" + off + " len=" + len + " outside array of " + b.length + " bytes");
        }
        if (len < HEADER_BYTES + CRC_BYTES) {
            throw new IllegalArgumentException("corrupt chunk: " + len + " bytes, shorter than header and CRC ("
                    + (HEADER_BYTES + CRC_BYTES) + ")");
        }
        int version = b[off] & 0xFF;
        if (version != FORMAT_VERSION) {
            throw new IllegalArgumentException(
                    "corrupt chunk: unsupported format version " + version + " (expected " + FORMAT_VERSION + ")");
        }
        int crcAt = off + len - CRC_BYTES;
        CRC32C crc = new CRC32C();
        crc.update(b, off, len - CRC_BYTES);
        int expected = ((b[crcAt] & 0xFF) << 24)
                | ((b[crcAt + 1] & 0xFF) << 16)
                | ((b[crcAt + 2] & 0xFF) << 8)
                | (b[crcAt + 3] & 0xFF);
        int actual = (int) crc.getValue();
        if (expected != actual) {
            throw new IllegalArgumentException("corrupt chunk: CRC32C mismatch (stored " + Integer.toHexString(expected)
                    + ", computed " + Integer.toHexString(actual) + ")");
        }
        Encoding enc = Encoding.fromCode(b[off + 1] & 0xFF);
        int count = ((b[off + 2] & 0xFF) << 8) | (b[off + 3] & 0xFF);
        int payload = len - HEADER_BYTES - CRC_BYTES;
        int start = off + HEADER_BYTES;
        ChunkIterator it = new ChunkIterator(b, start, start + payload, enc, count);
        long first = Long.MAX_VALUE;
        double last = Double.NaN;
        for (int i = 0; i < count; i++) {
            it.next();
            if (i == 0) {
                first = it.timestamp();
            }
            last = it.value();
        }
        int bits = it.bitPosition();
        if ((bits + 7) / 8 != payload) {
            throw new IllegalArgumentException("corrupt chunk: " + count + " samples end at bit " + bits
                    + " but the payload has " + payload + " bytes");
        }
        if ((bits & 7) != 0 && (b[start + payload - 1] & (0xFF >>> (bits & 7))) != 0) {
            throw new IllegalArgumentException("corrupt chunk: non-zero padding bits");
        }
        Chunk ch;
        if (count >= TARGET_SAMPLES) {
            // a full chunk is never appended to: keep the exact payload and no encoder
            ch = new Chunk(new Writer(Arrays.copyOfRange(b, start, start + payload), enc));
            ch.w = null;
        } else {
            ch = new Chunk(Writer.restore(b, start, payload, enc, count, it));
        }
        if (count > 0) {
            ch.minT = first;
            ch.maxT = it.t;
            ch.lastVBits = Double.doubleToRawLongBits(last);
        }
        PUBLISHED.setRelease(ch, ((long) count << 32) | bits);
        return ch;
    }

    /**
     * A sealed chunk from {@link #toBytes()} bytes whose newest timestamp and last value the caller
     * stored beside them under its own CRC (the head chunk log): checks the version, the chunk's
     * CRC32C and the header, and decodes only the first sample, instead of every sample as
     * {@link #fromBytes} does. For bytes this engine wrote and a CRC vouches for.
     *
     * @param b        the bytes
     * @param off      where the chunk starts in {@code b}
     * @param len      the chunk's length in bytes
     * @param maxT     the chunk's newest timestamp, as stored beside it
     * @param lastBits the raw bits of its last value, as stored beside it
     * @param slab     where the payload is copied (not null)
     * @return a sealed chunk
     * @throws IllegalArgumentException "corrupt chunk: ..." if the checks fail
     */
    public static Chunk fromSealedBytes(byte[] b, int off, int len, long maxT, long lastBits, Slab slab) {
        return fromSealedBytes(b, off, len, maxT, lastBits, false, slab);
    }

    /**
     * {@link #fromSealedBytes(byte[], int, int, long, long, Slab)} without the last value: {@link #lastValue()} decodes it if ever asked.
     *
     * @param b    the bytes
     * @param off  where the chunk starts in {@code b}
     * @param len  the chunk's length in bytes
     * @param maxT the chunk's newest timestamp, as stored beside it
     * @param slab where the payload is copied (not null)
     * @return a sealed chunk
     * @throws IllegalArgumentException "corrupt chunk: ..." if the checks fail
     */
    public static Chunk fromSealedBytes(byte[] b, int off, int len, long maxT, Slab slab) {
        return fromSealedBytes(b, off, len, maxT, 0, true, slab);
    }

    private static Chunk fromSealedBytes(
            byte[] b, int off, int len, long maxT, long lastBits, boolean lazyLast, Slab slab) {
        if (b == null || off < 0 || len < HEADER_BYTES + CRC_BYTES + 1 || off > b.length - len) {
            throw new IllegalArgumentException("corrupt chunk: bad range off=" + off + " len=" + len);
        }
        if ((b[off] & 0xFF) != FORMAT_VERSION) {
            throw new IllegalArgumentException("corrupt chunk: unsupported format version " + (b[off] & 0xFF));
        }
        int crcAt = off + len - CRC_BYTES;
        CRC32C crc = new CRC32C();
        crc.update(b, off, len - CRC_BYTES);
        int expected = ((b[crcAt] & 0xFF) << 24)
                | ((b[crcAt + 1] & 0xFF) << 16)
                | ((b[crcAt + 2] & 0xFF) << 8)
                | (b[crcAt + 3] & 0xFF);
        if (expected != (int) crc.getValue()) {
            throw new IllegalArgumentException("corrupt chunk: CRC32C mismatch");
        }
        Encoding enc = Encoding.fromCode(b[off + 1] & 0xFF);
        int count = ((b[off + 2] & 0xFF) << 8) | (b[off + 3] & 0xFF);
        if (count == 0) {
            throw new IllegalArgumentException("corrupt chunk: no samples");
        }
        int payload = len - HEADER_BYTES - CRC_BYTES;
        byte[] buf = slab.place(b, off + HEADER_BYTES, payload);
        int at = slab.lastOffset;
        ChunkIterator it = new ChunkIterator(buf, at, at + payload, enc, count);
        it.next();
        long first = it.timestamp();
        if (first > maxT || count == 1 && first != maxT) {
            throw new IllegalArgumentException(
                    "corrupt chunk: first timestamp " + first + " after the stated last " + maxT);
        }
        Chunk ch = new Chunk(new State(buf, at, at + payload, enc));
        ch.minT = first;
        ch.maxT = maxT;
        ch.lastVBits = lastBits;
        ch.lazyLast = lazyLast;
        PUBLISHED.setRelease(ch, ((long) count << 32) | (payload * 8L));
        return ch;
    }

    @Override
    public String toString() {
        return "Chunk[" + encoding() + ", " + numSamples() + " samples, " + sizeBytes() + " bytes]";
    }

    private static int roundUp8(int x) {
        return (x + 7) & ~7;
    }

    // ---------------------------------------------------------------- encoding

    /** The encoder: the buffer being filled and the state of the last sample (writer thread only). */
    private static final class Writer {
        byte[] buf;
        Encoding enc;
        /** Byte offset of the 64-bit word being filled. */
        int wordByte;
        /** The word being filled, most significant bit first; bits past accBits are zero. */
        long acc;

        int accBits;
        int n;
        long lastT;
        long deltaT;
        long lastBits;
        int lead = ChunkIterator.NO_WINDOW;
        int trail;
        long lastInt;
        long intDelta;

        Writer(byte[] buf, Encoding enc) {
            this.buf = buf;
            this.enc = enc;
        }

        /** An encoder continuing {@code count} samples whose payload is {@code b[start, start+payload)}, decoded by {@code it}. */
        static Writer restore(byte[] b, int start, int payload, Encoding enc, int count, ChunkIterator it) {
            int bits = it.bitPosition();
            Writer x = new Writer(new byte[roundUp8(Math.max(INITIAL_CAPACITY, payload + APPEND_SLACK))], enc);
            System.arraycopy(b, start, x.buf, 0, Math.min(payload, (bits + 7) / 8));
            if ((bits & 7) != 0) { // clear bits of a later sample that share the last byte
                x.buf[(bits + 7) / 8 - 1] &= (byte) (0xFF << (8 - (bits & 7)));
            }
            x.wordByte = (bits >>> 6) << 3;
            x.accBits = bits & 63;
            x.acc = (long) LONG_BE.get(x.buf, x.wordByte);
            x.n = count;
            if (count > 0) {
                x.lastT = it.t;
                x.deltaT = it.deltaT;
                x.lastBits = it.valueBits;
                x.lead = it.lead;
                x.trail = it.trail;
                x.lastInt = it.intValue;
                x.intDelta = it.intDelta;
            }
            return x;
        }

        private void encode(int c, long t, double v) {
            if (c >= 2) {
                encodeSteady(t, v);
                return;
            }
            if (c == 1) {
                long d = t - lastT; // unsigned: t > lastT, so the true difference is in (0, 2^64)
                writeUvarint(d);
                deltaT = d;
            } else {
                writeUvarint((t << 1) ^ (t >> 63));
            }
            lastT = t;
            if (enc == Encoding.INT_DOD) {
                long x = (long) v;
                if (c == 1) {
                    long d = x - lastInt;
                    writeUvarint((d << 1) ^ (d >> 63));
                    intDelta = d;
                } else {
                    writeUvarint((x << 1) ^ (x >> 63));
                }
                lastInt = x;
            } else {
                long bits = Double.doubleToRawLongBits(v);
                if (c == 0) {
                    write(bits, 64);
                } else {
                    writeXor(bits ^ lastBits, 0);
                }
                lastBits = bits;
            }
        }

        /**
         * Samples from the third on. A zero timestamp delta-of-delta is the single bit 0, so it is
         * folded into the value's code as one extra leading zero bit: one write per regular sample.
         */
        private void encodeSteady(long t, double v) {
            long d = t - lastT;
            long dod = d - deltaT;
            deltaT = d;
            lastT = t;
            int z = 0;
            if (dod == 0) {
                z = 1;
            } else {
                writeDod(dod, 0);
            }
            if (enc == Encoding.INT_DOD) {
                long x = (long) v;
                long dv = x - lastInt;
                long dodv = dv - intDelta;
                intDelta = dv;
                lastInt = x;
                writeDod(dodv, z);
            } else {
                long bits = Double.doubleToRawLongBits(v);
                writeXor(bits ^ lastBits, z);
                lastBits = bits;
            }
        }

        /** Writes z (0 or 1) zero bits, then the bucketed code of dod. */
        private void writeDod(long dod, int z) {
            if (dod == 0) {
                write(0, 1 + z);
            } else if (dod >= -8191 && dod <= 8192) {
                write((0b10L << 14) | (dod & 0x3FFF), 16 + z);
            } else if (dod >= -65535 && dod <= 65536) {
                write((0b110L << 17) | (dod & 0x1FFFF), 20 + z);
            } else if (dod >= -524287 && dod <= 524288) {
                write((0b1110L << 20) | (dod & 0xFFFFF), 24 + z);
            } else {
                write(0b1111, 4 + z);
                write(dod, 64);
            }
        }

        /** Writes z (0 or 1) zero bits, then the Gorilla XOR code of xor. */
        private void writeXor(long xor, int z) {
            if (xor == 0) {
                write(0, 1 + z);
                return;
            }
            int ld = Long.numberOfLeadingZeros(xor);
            int tr = Long.numberOfTrailingZeros(xor);
            if (ld >= lead && tr >= trail) {
                int sig = 64 - lead - trail;
                long bits = xor >>> trail;
                if (sig <= 61) {
                    write((0b10L << sig) | bits, sig + 2 + z);
                } else {
                    write(0b10, 2 + z);
                    write(bits, sig);
                }
            } else {
                if (ld > 31) {
                    ld = 31;
                }
                int sig = 64 - ld - tr;
                write((0b11L << 11) | ((long) ld << 6) | (sig & 63), 13 + z);
                write(xor >>> tr, sig);
                lead = ld;
                trail = tr;
            }
        }

        private void writeUvarint(long x) {
            while ((x & ~0x7FL) != 0) {
                write((x & 0x7F) | 0x80, 8);
                x >>>= 7;
            }
            write(x, 8);
        }

        /** Appends the low k bits of v (1 &lt;= k &lt;= 64; bits of v above k must be zero unless k == 64). */
        private void write(long v, int k) {
            int free = 64 - accBits;
            if (k < free) {
                acc |= v << (free - k);
                accBits += k;
            } else {
                int rest = k - free;
                acc |= v >>> rest;
                LONG_BE.set(buf, wordByte, acc);
                wordByte += 8;
                acc = rest == 0 ? 0 : v << (64 - rest);
                accBits = rest;
            }
        }

        private void grow() {
            int cap = Math.max(buf.length + (buf.length >>> 1), wordByte + APPEND_SLACK);
            buf = Arrays.copyOf(buf, roundUp8(cap));
        }

        /**
         * Re-encodes the samples held so far as XOR into a fresh buffer; the chunk then publishes it
         * (append) or leaves that to publish() (appendUnshared). Readers keep decoding the old buffer
         * (never modified again) until they pick up the new state.
         */
        private void switchToXor() {
            final int c = n;
            if (c == 0) {
                enc = Encoding.XOR;
                return;
            }
            long[] ts = new long[c];
            double[] vs = new double[c];
            ChunkIterator it = new ChunkIterator(buf, 0, buf.length, Encoding.INT_DOD, c);
            for (int i = 0; i < c; i++) {
                it.next();
                ts[i] = it.timestamp();
                vs[i] = it.value();
            }
            buf = new byte[roundUp8(Math.max(INITIAL_CAPACITY, c * 12 + APPEND_SLACK))];
            enc = Encoding.XOR;
            wordByte = 0;
            acc = 0;
            accBits = 0;
            lead = ChunkIterator.NO_WINDOW;
            trail = 0;
            for (int i = 0; i < c; i++) {
                if (buf.length - wordByte < APPEND_SLACK) {
                    grow();
                }
                encode(i, ts[i], vs[i]);
            }
            LONG_BE.set(buf, wordByte, acc);
        }
    }
}
