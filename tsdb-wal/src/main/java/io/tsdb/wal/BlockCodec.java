package io.tsdb.wal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Encodes and decodes WAL blocks (format versions 1 and 2, specified byte by byte in docs/wal-format.md).
 *
 * <pre>
 *  0  int   magic 0x54574C42 ("TWLB")
 *  4  byte  format version (1; 2 for gap blocks)
 *  5  byte  flags (bit 0: payload LZ4-compressed; bit 1, version 2 only: gap block; other bits 0)
 *  6  short header length (56)
 *  8  long  first offset
 * 16  long  synced offset (every record with a lower offset was fsynced before this block was written)
 * 24  int   record count (1..)
 * 28  int   uncompressed payload length
 * 32  int   stored payload length
 * 36  long  min attribute
 * 44  long  max attribute
 * 52  int   CRC32C of bytes 0..51 and of the stored payload
 * 56  stored payload: records, each an unsigned LEB128 varint length followed by its bytes
 * </pre>
 * All integers big-endian. Encoder and Decoder instances are not thread-safe (reuse one per thread).
 *
 * <p>A <em>gap block</em> (version 2, flags = 2, both payload lengths 0, no payload) consumes the
 * offsets [first offset, first offset + record count) without holding records: the offsets of a
 * batch whose write or fsync failed (its callers got the exception) are written as a gap so that
 * the offsets in a segment stay dense. Replay hands out no record for it. Ordinary blocks are
 * still written as version 1, so a log without gap blocks stays readable by version-1 readers.
 */
public final class BlockCodec {
    public static final int MAGIC = 0x54574C42;
    /** Format version of ordinary blocks. */
    public static final byte VERSION = 1;
    /** Format version of gap blocks (version 1 plus flag bit 1). */
    public static final byte GAP_VERSION = 2;

    public static final int HEADER_BYTES = 56;
    public static final int FLAG_LZ4 = 1;
    /** Version 2 only: the block holds no records; it consumes {@code recordCount} offsets. */
    public static final int FLAG_GAP = 2;
    /** Hard bound of a block's uncompressed (and stored) payload length. */
    public static final int MAX_PAYLOAD_BYTES = 128 << 20;

    private static final int CRC_AT = 52;
    /** Payloads below this are stored as is: LZ4's per-call cost (~µs) cannot pay on a few records. */
    static final int MIN_COMPRESS_BYTES = 512;

    /**
     * The LZ4 factory, initialised on first use: loading the native library takes 0.15-0.5 s on a
     * cold, busy 2-core machine, so {@link #preloadAsync()} starts it on a background thread at the
     * top of {@link ShardedWAL#open} (overlapping the directory listing, anchor and index reads and
     * the recovery pool's start-up; the first block check waits for it). {@link Lz4Loader} picks
     * the native instance from one reused copy of the library (never lz4-java's per-JVM temp copy,
     * which a killed JVM leaves in {@code java.io.tmpdir}), else the pure-Java one.
     */
    private static final class Lz4 {
        static final Lz4Loader.Choice CHOICE = Lz4Loader.choose();
        static final LZ4Factory FACTORY = CHOICE.factory();
    }

    /** Which LZ4 implementation blocks are compressed and decompressed with, and why (diagnostics). */
    public static String lz4Implementation() {
        return Lz4.FACTORY + " (" + Lz4.CHOICE.reason() + ")";
    }

    private static final java.util.concurrent.atomic.AtomicBoolean PRELOADING =
            new java.util.concurrent.atomic.AtomicBoolean();

    /** Starts loading LZ4 on a daemon thread (once per JVM); users block on class init only if they need it earlier. */
    static void preloadAsync() {
        if (!PRELOADING.compareAndSet(false, true)) return;
        Thread t = new Thread(
                () -> {
                    try {
                        Lz4.FACTORY.hashCode();
                    } catch (Throwable ignored) {
                        // the first real use reports the failure
                    }
                },
                "tsdb-wal-lz4-load");
        t.setDaemon(true);
        t.start();
    }

    private BlockCodec() {}

    /** Bytes taken by the varint length prefix of a record of {@code len} bytes. */
    public static int varintSize(int len) {
        if (len < (1 << 7)) return 1;
        if (len < (1 << 14)) return 2;
        if (len < (1 << 21)) return 3;
        if (len < (1 << 28)) return 4;
        return 5;
    }

    /** Writes an unsigned varint at {@code pos}; returns the position after it. */
    public static int putVarint(byte[] a, int pos, int v) {
        while ((v & ~0x7F) != 0) {
            a[pos++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        a[pos++] = (byte) v;
        return pos;
    }

    /** Parsed block header. */
    public static final class Header {
        public int flags;
        public long firstOffset;
        public long syncedOffset;
        public int recordCount;
        public int rawLength;
        public int storedLength;
        public long minAttribute;
        public long maxAttribute;
        public int crc;

        public int blockLength() {
            return HEADER_BYTES + storedLength;
        }

        public boolean compressed() {
            return (flags & FLAG_LZ4) != 0;
        }
        /** True for a gap block: offsets consumed by a failed write, no records. */
        public boolean gap() {
            return (flags & FLAG_GAP) != 0;
        }
    }

    /** Builds blocks into a reused output array. */
    public static final class Encoder {
        /** Created on the first compressed block (a shard is built during recovery, before LZ4 is needed). */
        private LZ4Compressor compressor;

        private final CRC32C crc = new CRC32C();
        private byte[] out = new byte[64 << 10];
        private ByteBuffer outBuf = ByteBuffer.wrap(out);

        /** The output array (valid until the next encode). */
        public byte[] out() {
            return out;
        }

        /** The output as a buffer positioned at 0 with limit = block length of the last encode. */
        public ByteBuffer outBuffer(int length) {
            outBuf.clear().limit(length);
            return outBuf;
        }

        /**
         * Encodes payload[0, len) (already framed: varint length + bytes per record) as one block.
         * Returns the block length in {@link #out()}.
         */
        public int encode(
                byte[] payload,
                int len,
                long firstOffset,
                long syncedOffset,
                int count,
                long minAttr,
                long maxAttr,
                boolean compress) {
            if (len < 0 || len > MAX_PAYLOAD_BYTES)
                throw new IllegalArgumentException("payload length " + len + " out of range");
            if (count <= 0) throw new IllegalArgumentException("record count must be positive, got " + count);
            int flags = 0;
            int stored;
            if (compress && len >= MIN_COMPRESS_BYTES) {
                LZ4Compressor compressor = this.compressor;
                if (compressor == null) {
                    compressor = Lz4.FACTORY.fastCompressor();
                    this.compressor = compressor;
                }
                int max = compressor.maxCompressedLength(len);
                ensure(HEADER_BYTES + Math.max(max, len));
                int c = compressor.compress(payload, 0, len, out, HEADER_BYTES, max);
                if (c <= len - (len >>> 3)) {
                    flags = FLAG_LZ4;
                    stored = c;
                } else {
                    System.arraycopy(payload, 0, out, HEADER_BYTES, len);
                    stored = len;
                }
            } else {
                ensure(HEADER_BYTES + len);
                System.arraycopy(payload, 0, out, HEADER_BYTES, len);
                stored = len;
            }
            ByteBuffer b = outBuf;
            b.clear();
            b.putInt(0, MAGIC);
            b.put(4, VERSION);
            b.put(5, (byte) flags);
            b.putShort(6, (short) HEADER_BYTES);
            b.putLong(8, firstOffset);
            b.putLong(16, syncedOffset);
            b.putInt(24, count);
            b.putInt(28, len);
            b.putInt(32, stored);
            b.putLong(36, minAttr);
            b.putLong(44, maxAttr);
            crc.reset();
            crc.update(out, 0, CRC_AT);
            crc.update(out, HEADER_BYTES, stored);
            b.putInt(CRC_AT, (int) crc.getValue());
            return HEADER_BYTES + stored;
        }

        /**
         * Encodes a gap block (header only, {@link #HEADER_BYTES} bytes, version 2) that consumes the
         * offsets [firstOffset, firstOffset + count). Returns the block length in {@link #out()}.
         */
        public int encodeGap(long firstOffset, long syncedOffset, int count) {
            if (count <= 0) throw new IllegalArgumentException("gap record count must be positive, got " + count);
            if (firstOffset < 0 || firstOffset > Long.MAX_VALUE - count)
                throw new IllegalArgumentException("gap first offset " + firstOffset + " out of range");
            ensure(HEADER_BYTES);
            ByteBuffer b = outBuf;
            b.clear();
            b.putInt(0, MAGIC);
            b.put(4, GAP_VERSION);
            b.put(5, (byte) FLAG_GAP);
            b.putShort(6, (short) HEADER_BYTES);
            b.putLong(8, firstOffset);
            b.putLong(16, syncedOffset);
            b.putInt(24, count);
            b.putInt(28, 0);
            b.putInt(32, 0);
            b.putLong(36, 0);
            b.putLong(44, 0);
            crc.reset();
            crc.update(out, 0, CRC_AT);
            b.putInt(CRC_AT, (int) crc.getValue());
            return HEADER_BYTES;
        }

        /** Drops an output array grown past {@code max} bytes by an unusually large block. */
        public void trim(int max) {
            if (out.length > max && out.length > (64 << 10)) {
                out = new byte[64 << 10];
                outBuf = ByteBuffer.wrap(out);
            }
        }

        private void ensure(int n) {
            if (out.length < n) {
                out = new byte[Math.max(n, out.length * 2)];
                outBuf = ByteBuffer.wrap(out);
            }
        }
    }

    /** Receives decoded records. The buffer is valid only during the call. */
    @FunctionalInterface
    public interface RecordVisitor {
        void accept(long offset, ByteBuffer record) throws Exception;
    }

    /** Validates and decodes blocks; reuses its buffers. */
    public static final class Decoder {
        /** Created on the first compressed block (LZ4 may still be loading when a decoder is made). */
        private LZ4SafeDecompressor decompressor;

        private final CRC32C crc = new CRC32C();
        private byte[] raw = new byte[64 << 10];
        private ByteBuffer rawBuf = ByteBuffer.wrap(raw);
        private ByteBuffer view;
        private ByteBuffer viewSource;
        private byte[] stored = new byte[0];

        /**
         * Parses and bounds-checks the header at {@code buf[pos..pos+56)}; {@code available} is how
         * many bytes exist from pos (to the end of the file). Returns null if plausible, else the
         * reason. Does not check the CRC.
         */
        public String parseHeader(ByteBuffer buf, int pos, long available, Header h) {
            if (available < HEADER_BYTES) return "truncated header (" + available + " bytes)";
            int magic = buf.getInt(pos);
            if (magic != MAGIC) return "bad magic 0x" + Integer.toHexString(magic);
            int version = buf.get(pos + 4);
            if (version != VERSION && version != GAP_VERSION) return "unknown format version " + version;
            int flags = buf.get(pos + 5) & 0xFF;
            int known = version == GAP_VERSION ? FLAG_LZ4 | FLAG_GAP : FLAG_LZ4;
            if ((flags & ~known) != 0)
                return "unknown flags 0x" + Integer.toHexString(flags) + " in a version " + version + " block";
            int hl = buf.getShort(pos + 6);
            if (hl != HEADER_BYTES) return "bad header length " + hl;
            h.flags = flags;
            h.firstOffset = buf.getLong(pos + 8);
            h.syncedOffset = buf.getLong(pos + 16);
            h.recordCount = buf.getInt(pos + 24);
            h.rawLength = buf.getInt(pos + 28);
            h.storedLength = buf.getInt(pos + 32);
            h.minAttribute = buf.getLong(pos + 36);
            h.maxAttribute = buf.getLong(pos + 44);
            h.crc = buf.getInt(pos + CRC_AT);
            if (h.firstOffset < 0) return "negative first offset " + h.firstOffset;
            if (h.syncedOffset < 0) return "negative synced offset " + h.syncedOffset;
            if (h.recordCount <= 0) return "bad record count " + h.recordCount;
            if (h.gap()) {
                if (flags != FLAG_GAP) return "gap block with flags 0x" + Integer.toHexString(flags);
                if (h.rawLength != 0 || h.storedLength != 0)
                    return "gap block with payload lengths " + h.rawLength + "/" + h.storedLength;
                if (h.minAttribute != 0 || h.maxAttribute != 0) return "gap block with attributes";
                if (h.firstOffset > Long.MAX_VALUE - h.recordCount) return "offset overflow";
                return null;
            }
            if (h.rawLength < 0 || h.rawLength > MAX_PAYLOAD_BYTES) return "bad uncompressed length " + h.rawLength;
            if (h.storedLength < 0 || h.storedLength > MAX_PAYLOAD_BYTES) return "bad stored length " + h.storedLength;
            if (h.recordCount > h.rawLength)
                return "record count " + h.recordCount + " exceeds payload length " + h.rawLength;
            if (!h.compressed() && h.storedLength != h.rawLength)
                return "stored length " + h.storedLength + " != uncompressed length " + h.rawLength
                        + " in an uncompressed block";
            if (h.compressed() && (long) h.rawLength > 255L * h.storedLength + 16)
                return "uncompressed length " + h.rawLength + " impossible for stored length " + h.storedLength;
            if (h.minAttribute > h.maxAttribute) return "min attribute > max attribute";
            if (h.firstOffset > Long.MAX_VALUE - h.recordCount) return "offset overflow";
            if (HEADER_BYTES + (long) h.storedLength > available)
                return "block length " + (HEADER_BYTES + (long) h.storedLength) + " runs past the end of the file ("
                        + available + " bytes left)";
            return null;
        }

        /** Checks the CRC of the block at pos (whole block must be in buf). */
        public boolean crcMatches(ByteBuffer buf, int pos, Header h) {
            crc.reset();
            if (buf.hasArray()) {
                byte[] a = buf.array();
                int o = buf.arrayOffset() + pos;
                crc.update(a, o, CRC_AT);
                crc.update(a, o + HEADER_BYTES, h.storedLength);
                return (int) crc.getValue() == h.crc;
            }
            ByteBuffer d = buf.duplicate();
            d.limit(pos + CRC_AT).position(pos);
            crc.update(d);
            d.limit(pos + HEADER_BYTES + h.storedLength).position(pos + HEADER_BYTES);
            crc.update(d);
            return (int) crc.getValue() == h.crc;
        }

        /** Full validation + decode of the block whose header (already parsed into h) is at pos. */
        public void decode(ByteBuffer buf, int pos, Header h, long fromOffset, RecordVisitor visitor) throws Exception {
            if (!crcMatches(buf, pos, h)) throw new CorruptBlockException("CRC mismatch");
            decodeVerified(buf, pos, h, fromOffset, visitor);
        }

        /** Decompresses and checks the record framing of a block whose CRC was verified; hands out nothing. */
        public void validatePayload(ByteBuffer buf, int pos, Header h) throws CorruptBlockException {
            try {
                decodeVerified(buf, pos, h, Long.MAX_VALUE, null);
            } catch (CorruptBlockException e) {
                throw e;
            } catch (Exception e) {
                throw new CorruptBlockException("payload check failed: " + e, e);
            }
        }

        /**
         * Decodes a block whose CRC was already verified. The record framing of the whole block is
         * checked before the first record is handed out, so a damaged block yields no records.
         */
        public void decodeVerified(ByteBuffer buf, int pos, Header h, long fromOffset, RecordVisitor visitor)
                throws Exception {
            if (h.gap()) {
                // parseHeader checked that a gap block has no payload: nothing to hand out
                if (h.rawLength != 0 || h.storedLength != 0)
                    throw new CorruptBlockException("gap block with a payload");
                return;
            }
            ByteBuffer payload;
            int base;
            if (h.compressed()) {
                if (raw.length < h.rawLength) {
                    raw = new byte[Math.max(h.rawLength, Math.min(MAX_PAYLOAD_BYTES, raw.length * 2))];
                    rawBuf = ByteBuffer.wrap(raw);
                }
                int n;
                LZ4SafeDecompressor decompressor = this.decompressor;
                if (decompressor == null) {
                    decompressor = Lz4.FACTORY.safeDecompressor();
                    this.decompressor = decompressor;
                }
                try {
                    if (buf.hasArray()) {
                        n = decompressor.decompress(
                                buf.array(),
                                buf.arrayOffset() + pos + HEADER_BYTES,
                                h.storedLength,
                                raw,
                                0,
                                h.rawLength);
                    } else {
                        if (stored.length < h.storedLength)
                            stored = new byte[Math.max(h.storedLength, stored.length * 2)];
                        buf.get(pos + HEADER_BYTES, stored, 0, h.storedLength);
                        n = decompressor.decompress(stored, 0, h.storedLength, raw, 0, h.rawLength);
                    }
                } catch (LZ4Exception | ArrayIndexOutOfBoundsException e) {
                    throw new CorruptBlockException("bad LZ4 stream: " + e.getMessage(), e);
                }
                if (n != h.rawLength)
                    throw new CorruptBlockException(
                            "LZ4 stream decoded to " + n + " bytes, header says " + h.rawLength);
                payload = rawBuf;
                base = 0;
            } else {
                payload = buf;
                base = pos + HEADER_BYTES;
            }
            checkFraming(payload, base, h.rawLength, h.recordCount);
            if (visitor != null && fromOffset < h.firstOffset + h.recordCount) {
                forEachRecord(payload, base, h.firstOffset, h.recordCount, fromOffset, visitor);
            }
        }

        private static void checkFraming(ByteBuffer p, int base, int len, int count) throws CorruptBlockException {
            int end = base + len;
            int at = base;
            for (int i = 0; i < count; i++) {
                if (at >= end) throw new CorruptBlockException("payload ends after " + i + " of " + count + " records");
                int l = 0;
                int shift = 0;
                while (true) {
                    if (at >= end || shift > 28)
                        throw new CorruptBlockException("bad record length varint at record " + i);
                    int b = p.get(at++);
                    l |= (b & 0x7F) << shift;
                    if ((b & 0x80) == 0) break;
                    shift += 7;
                }
                if (l < 0 || l > end - at)
                    throw new CorruptBlockException("record " + i + " length " + l + " runs past the payload");
                at += l;
            }
            if (at != end) throw new CorruptBlockException((end - at) + " trailing bytes after " + count + " records");
        }

        private void forEachRecord(ByteBuffer p, int base, long first, int count, long from, RecordVisitor visitor)
                throws Exception {
            ByteBuffer v = view;
            if (v == null || viewSource != p) {
                v = p.duplicate();
                view = v;
                viewSource = p;
            }
            int at = base;
            for (int i = 0; i < count; i++) {
                int l = 0;
                int shift = 0;
                while (true) {
                    int b = p.get(at++);
                    l |= (b & 0x7F) << shift;
                    if ((b & 0x80) == 0) break;
                    shift += 7;
                }
                long off = first + i;
                if (off >= from) {
                    v.limit(at + l).position(at);
                    v.order(ByteOrder.BIG_ENDIAN);
                    visitor.accept(off, v);
                    v.limit(v.capacity());
                }
                at += l;
            }
        }
    }

    /**
     * Convenience: decode a whole block held in {@code block} (position..limit) — for tests and
     * benchmarks. A gap block yields no records (its header's record count is the offsets it consumes).
     */
    public static Header decode(ByteBuffer block, RecordVisitor visitor) throws Exception {
        ByteBuffer b = block.slice().order(ByteOrder.BIG_ENDIAN);
        Decoder d = new Decoder();
        Header h = new Header();
        String why = d.parseHeader(b, 0, b.remaining(), h);
        if (why != null) throw new CorruptBlockException(why);
        d.decode(b, 0, h, Long.MIN_VALUE, visitor);
        return h;
    }
}
