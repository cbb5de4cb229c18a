package io.tsdb.wal;

import java.nio.ByteBuffer;

/**
 * Child JVM of {@link Lz4NativeLibraryTest}: encodes and decodes one LZ4-compressed block, prints
 * {@code READY <implementation>}, then waits to be killed.
 */
public final class Lz4ChildMain {
    private Lz4ChildMain() {}

    public static void main(String[] args) throws Exception {
        byte[] payload = new byte[4096];
        int at = 0;
        for (int i = 0; at + 33 <= payload.length; i++) {
            at = BlockCodec.putVarint(payload, at, 32);
            ByteBuffer.wrap(payload, at, 32)
                    .putLong(i % 7)
                    .putLong(1_700_000_000_000L + 15_000L * i)
                    .putLong(42)
                    .putLong(i);
            at += 32;
        }
        int count = at / 33;
        BlockCodec.Encoder enc = new BlockCodec.Encoder();
        int len = enc.encode(payload, at, 0, 0, count, 0, 0, true);
        ByteBuffer block = ByteBuffer.wrap(java.util.Arrays.copyOf(enc.out(), len));
        if ((block.get(5) & BlockCodec.FLAG_LZ4) == 0) throw new IllegalStateException("block was not compressed");
        int[] seen = {0};
        BlockCodec.decode(block, (off, r) -> seen[0]++);
        if (seen[0] != count) throw new IllegalStateException("decoded " + seen[0] + " of " + count + " records");
        System.out.println("READY " + BlockCodec.lz4Implementation());
        System.out.flush();
        Thread.sleep(120_000);
    }
}
