package io.tsdb.core.crash;

import io.tsdb.core.Appender;
import io.tsdb.core.Labels;
import io.tsdb.core.Sample;
import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageOptions;
import io.tsdb.core.TimeSeries;
import io.tsdb.wal.Durability;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The child JVM of {@link KillNineTest} and {@link ReplayIdempotenceTest}; it is killed with
 * {@code destroyForcibly()} (SIGKILL) at a random time and never exits on its own (except after
 * a safety limit, on a broken stdout pipe, or on an unexpected error, which it reports).
 *
 * <pre>
 * write &lt;dir&gt; &lt;MODE&gt; &lt;seed&gt; &lt;series&gt; &lt;writers&gt; &lt;startRound&gt; &lt;maxRounds&gt;
 *     prints OPENING, opens the store (recovery), prints READY, then each writer thread w (owning
 *     series i with i % writers == w) writes rounds startRound, startRound+1, ...: prints "T w r"
 *     before the write call and "A w r nanoTime" after it returned. Even rounds use an Appender
 *     commit, odd rounds write(Collection&lt;TimeSeries&gt;); after maxRounds rounds a writer prints
 *     "D w" and idles. Round r holds one sample per series of the writer:
 *     t = SeriesGen.timestamp(r), bits = SeriesGen.valueBits(series, t).
 * open &lt;dir&gt; &lt;MODE&gt;
 *     prints OPENING, opens the store (WAL replay), prints READY, then sleeps: used to kill during recovery.
 * </pre>
 *
 * Every line is written with one unbuffered write to stdout, so the parent sees only whole lines
 * (a line cut by the kill has no newline and is ignored).
 */
public final class CrashWriterMain {
    /** The child gives up after this long even if the parent never kills it. */
    private static final long SAFETY_LIMIT_MS = 180_000;

    private static final FileOutputStream OUT = new FileOutputStream(FileDescriptor.out);

    private CrashWriterMain() {}

    /** Knobs forwarded to the child JVM (diagnosis): WAL segment size, checkpoint interval in ms (0 = off). */
    static final List<String> FORWARDED_PROPERTIES = List.of("tsdb.kill9.segmentBytes", "tsdb.kill9.checkpointMs");

    /**
     * The options of every open of a kill -9 store (child and parent): 16 KiB segments (frequent
     * rolls and anchor rewrites) and a checkpoint (with WAL truncation) every 0.7 s, unless
     * overridden by {@code -Dtsdb.kill9.segmentBytes} / {@code -Dtsdb.kill9.checkpointMs}.
     */
    static StorageOptions options(Durability mode) {
        long checkpointMs = Long.getLong("tsdb.kill9.checkpointMs", 700);
        return StorageOptions.builder()
                .shards(8)
                .durability(mode)
                .walSegmentBytes(Long.getLong("tsdb.kill9.segmentBytes", 16 << 10))
                .checkpointInterval(Duration.ofMillis(checkpointMs))
                .checkpointWalBytes(checkpointMs == 0 ? 0 : 256 << 10)
                .replayParallelism(2)
                .build();
    }

    static synchronized void line(String s) {
        byte[] b = (s + "\n").getBytes(StandardCharsets.US_ASCII);
        try {
            OUT.write(b); // one write(2) of a short line: atomic on a pipe
        } catch (IOException e) {
            // the parent is gone: stop at once
            Runtime.getRuntime().halt(2);
        }
    }

    public static void main(String[] args) throws Exception {
        Thread safety = new Thread(
                () -> {
                    try {
                        Thread.sleep(SAFETY_LIMIT_MS);
                    } catch (InterruptedException e) {
                        return;
                    }
                    System.err.println("crash child: safety limit reached, exiting");
                    Runtime.getRuntime().halt(4);
                },
                "safety");
        safety.setDaemon(true);
        safety.start();
        try {
            switch (args[0]) {
                case "write" ->
                    write(
                            Path.of(args[1]),
                            Durability.valueOf(args[2]),
                            Long.parseLong(args[3]),
                            Integer.parseInt(args[4]),
                            Integer.parseInt(args[5]),
                            Long.parseLong(args[6]),
                            Long.parseLong(args[7]));
                case "open" -> {
                    line("OPENING");
                    StorageImpl store = StorageImpl.open(
                            Path.of(args[1]),
                            options(Durability.valueOf(args[2])).toBuilder()
                                    .checkpointInterval(Duration.ZERO)
                                    .checkpointWalBytes(0)
                                    .build());
                    line("READY " + store.stats().series());
                    Thread.sleep(SAFETY_LIMIT_MS);
                }
                default -> throw new IllegalArgumentException("unknown command " + args[0]);
            }
        } catch (Throwable t) {
            fail(-1, t);
        }
    }

    private static void write(
            Path dir, Durability mode, long seed, int nSeries, int writers, long startRound, long maxRounds)
            throws Exception {
        List<Labels> labels = SeriesGen.labelSets(nSeries, seed);
        line("OPENING");
        StorageImpl store = StorageImpl.open(dir, options(mode));
        line("READY " + store.stats().series());
        Thread[] ts = new Thread[writers];
        for (int w = 0; w < writers; w++) {
            final int writer = w;
            ts[w] = new Thread(
                    () -> {
                        try {
                            writer(store, labels, writer, writers, startRound, maxRounds);
                        } catch (Throwable t) {
                            fail(writer, t);
                        }
                    },
                    "writer-" + w);
            ts[w].start();
        }
        for (Thread t : ts) {
            t.join();
        }
    }

    private static void writer(
            StorageImpl store, List<Labels> labels, int w, int writers, long startRound, long maxRounds)
            throws IOException, InterruptedException {
        List<Integer> mine = new ArrayList<>();
        for (int i = w; i < labels.size(); i += writers) {
            mine.add(i);
        }
        long[] refs = new long[mine.size()];
        Appender app = store.appender();
        for (long r = startRound; ; r++) {
            if (r == startRound + maxRounds) {
                // bounded data per child (the store grows over many iterations): idle until killed
                line("D " + w);
                Thread.sleep(SAFETY_LIMIT_MS);
            }
            long t = SeriesGen.timestamp(r);
            line("T " + w + " " + r);
            if ((r & 1) == 0) {
                for (int j = 0; j < mine.size(); j++) {
                    int i = mine.get(j);
                    refs[j] = app.append(refs[j], labels.get(i), t, Double.longBitsToDouble(SeriesGen.valueBits(i, t)));
                }
                app.commit();
            } else {
                List<TimeSeries> batch = new ArrayList<>(mine.size());
                for (int i : mine) {
                    batch.add(new TimeSeries(
                            labels.get(i), List.of(new Sample(t, Double.longBitsToDouble(SeriesGen.valueBits(i, t))))));
                }
                store.write(batch);
            }
            line("A " + w + " " + r + " " + System.nanoTime());
        }
    }

    private static void fail(int writer, Throwable t) {
        StringWriter sw = new StringWriter();
        t.printStackTrace(new PrintWriter(sw));
        System.err.println("crash child: writer " + writer + " failed: " + sw);
        System.err.flush();
        line("E " + writer + " " + String.valueOf(t).replace('\n', ' '));
        Runtime.getRuntime().halt(3);
    }
}
