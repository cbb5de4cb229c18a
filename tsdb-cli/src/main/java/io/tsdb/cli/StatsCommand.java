package io.tsdb.cli;

import io.tsdb.bench.util.ProcStats;
import io.tsdb.core.SampleIterator;
import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageStats;
import io.tsdb.wal.WalStats;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.roaringbitmap.IntIterator;
import org.roaringbitmap.RoaringBitmap;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tsdb stats DIR}: what a store holds, per shard: WAL segments, bytes and records, head
 * series and samples, the newest checkpoint; then totals (including head chunks and bytes per
 * sample) and what opening it took. Opens the store (replaying its WAL) and closes it without
 * writing a checkpoint, so the directory is left as it was found (apart from WAL recovery and the
 * repair of a damaged head chunk log).
 */
@Command(
        name = "stats",
        mixinStandardHelpOptions = true,
        description =
                "Prints what a store holds, per shard: WAL segments, bytes, records; series, samples; newest checkpoint.")
public final class StatsCommand implements Callable<Integer> {
    private static final Pattern SHARD_DIR = Pattern.compile("shard-0*(\\d+)");
    private static final Pattern CKPT = Pattern.compile("ckpt-0*(\\d+)");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "Store directory.")
    Path dir;

    @Option(names = "--prometheus", description = "Print the figures in the Prometheus text exposition format instead.")
    boolean prometheus;

    /**
     * Opens a store read-only (for the inspection commands): nothing in it is written, and it works
     * beside the process that writes the store.
     */
    static StorageImpl openExisting(CommandLine cl, Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new CommandLine.ParameterException(cl, "store directory " + dir + " does not exist");
        }
        if (!Files.exists(dir.resolve("STORE"))) {
            throw new CommandLine.ParameterException(cl, dir + " is not a tsdb store (no STORE file)");
        }
        return StorageImpl.openReadOnly(dir);
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        long t0 = System.nanoTime();
        try (StorageImpl store = openExisting(spec.commandLine(), dir)) {
            double openSecs = (System.nanoTime() - t0) / 1e9;
            StorageStats s = store.stats();
            if (prometheus) {
                o.print(s.toPrometheusText());
                o.flush();
                return 0;
            }
            int shards = s.shards();
            long[] series = new long[shards];
            long[] samples = new long[shards];
            RoaringBitmap all = store.allPostings();
            IntIterator it = all.getIntIterator();
            while (it.hasNext()) {
                int ref = it.next();
                int shard = ref % shards; // refs are localIndex * shardCount + shard (StorageImpl)
                series[shard]++;
                SampleIterator si = store.iterator(ref, Long.MIN_VALUE, Long.MAX_VALUE);
                long n = 0;
                while (si.next()) {
                    n++;
                }
                samples[shard] += n;
            }
            WalStats wal = s.wal();
            o.printf("store %s: %d shards%n", dir.toAbsolutePath(), shards);
            o.printf(
                    "%-6s %9s %12s %12s %10s %12s  %s%n",
                    "shard", "segments", "wal bytes", "wal records", "series", "samples", "checkpoint");
            long segTotal = 0;
            long bytesTotal = 0;
            for (int i = 0; i < shards; i++) {
                long[] seg = walSegments(i);
                segTotal += seg[0];
                bytesTotal += seg[1];
                long records = wal != null && i < wal.shards().size()
                        ? wal.shards().get(i).nextOffset()
                        : -1;
                o.printf(
                        Locale.ROOT,
                        "%-6d %9d %12d %12s %10d %12d  %s%n",
                        i,
                        seg[0],
                        seg[1],
                        records < 0 ? "n/a" : Long.toString(records),
                        series[i],
                        samples[i],
                        checkpoint(i));
            }
            long recTotal = wal == null ? -1 : wal.total().nextOffset();
            o.printf(
                    Locale.ROOT,
                    "%-6s %9d %12d %12s %10d %12d%n",
                    "total",
                    segTotal,
                    bytesTotal,
                    recTotal < 0 ? "n/a" : Long.toString(recTotal),
                    s.series(),
                    s.samples());
            o.printf(
                    Locale.ROOT,
                    "head: %,d series, %,d samples, %,d chunks, %s of chunks = %.3f bytes/sample%n",
                    s.series(),
                    s.samples(),
                    s.chunks(),
                    ProcStats.human(s.headChunkBytes()),
                    s.headBytesPerSample());
            o.printf(
                    Locale.ROOT,
                    "wal: %s on disk = %.3f bytes/sample%n",
                    ProcStats.human(s.walDiskBytes()),
                    s.samples() > 0 ? s.walDiskBytes() / (double) s.samples() : 0);
            StorageStats.Replay r = s.replay();
            o.printf(
                    Locale.ROOT,
                    "open: %.3f s (WAL replay %.3f s, %,d records, %,d samples; %d checkpoints loaded, %,d samples)%n",
                    openSecs,
                    r.walSeconds(),
                    r.records(),
                    r.samples(),
                    s.checkpoint().loaded(),
                    s.checkpoint().loadedSamples());
            if (r.chunkLogChunks() + r.chunkLogUnattached() > 0) {
                o.printf(
                        Locale.ROOT,
                        "head chunk log: %,d chunks attached (%,d samples; %,d WAL samples decoded but not re-encoded), %,d not used%n",
                        r.chunkLogChunks(),
                        r.chunkLogSamples(),
                        r.coveredSamples(),
                        r.chunkLogUnattached());
            }
            for (String p : r.chunkLogProblems()) {
                o.println("head chunk log problem: " + p);
            }
            if (r.unknownRefSamples() + r.corruptRecords() + r.outOfOrderSamples() + r.conflictingSeries() > 0
                    || !r.walRecoveryClean()) {
                o.printf(
                        Locale.ROOT,
                        "recovery: %,d unknown-ref samples, %,d corrupt records, %,d out-of-order samples, %,d conflicting series%n",
                        r.unknownRefSamples(),
                        r.corruptRecords(),
                        r.outOfOrderSamples(),
                        r.conflictingSeries());
                if (r.firstProblem() != null) {
                    o.println("  first problem: " + r.firstProblem());
                }
                if (r.walRecovery() != null) {
                    o.println("  wal: " + r.walRecovery());
                }
            }
            for (String p : s.checkpoint().problems()) {
                o.println("checkpoint problem: " + p);
            }
            o.printf("disk: %s%n", ProcStats.human(ProcStats.dirBytes(dir)));
            o.flush();
        }
        return 0;
    }

    /** {segments, bytes} of a shard's WAL directory ({@code wal/shard-NNN/*.log}). */
    private long[] walSegments(int shard) throws IOException {
        Path walDir = dir.resolve("wal");
        long[] out = new long[2];
        if (!Files.isDirectory(walDir)) {
            return out;
        }
        try (Stream<Path> shardsDirs = Files.list(walDir)) {
            for (Path sd : (Iterable<Path>) shardsDirs::iterator) {
                Matcher m = SHARD_DIR.matcher(sd.getFileName().toString());
                if (!Files.isDirectory(sd) || !m.matches() || Integer.parseInt(m.group(1)) != shard) {
                    continue;
                }
                try (Stream<Path> files = Files.list(sd)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        if (f.getFileName().toString().endsWith(".log")) {
                            out[0]++;
                            out[1] += Files.size(f);
                        }
                    }
                }
            }
        }
        return out;
    }

    /** The newest checkpoint of a shard: "ckpt at WAL offset N (size)" or "none". */
    private String checkpoint(int shard) throws IOException {
        Path root = dir.resolve("checkpoints");
        if (!Files.isDirectory(root)) {
            return "none";
        }
        long best = -1;
        long size = 0;
        try (Stream<Path> shardDirs = Files.list(root)) {
            for (Path sd : (Iterable<Path>) shardDirs::iterator) {
                Matcher m = SHARD_DIR.matcher(sd.getFileName().toString());
                if (!Files.isDirectory(sd) || !m.matches() || Integer.parseInt(m.group(1)) != shard) {
                    continue;
                }
                try (Stream<Path> files = Files.list(sd)) {
                    List<Path> list = files.toList();
                    for (Path f : list) {
                        Matcher c = CKPT.matcher(f.getFileName().toString());
                        if (c.matches()) {
                            long off = Long.parseLong(c.group(1));
                            if (off > best) {
                                best = off;
                                size = Files.size(f);
                            }
                        }
                    }
                }
            }
        }
        return best < 0 ? "none" : "at WAL offset " + best + " (" + ProcStats.human(size) + ")";
    }
}
