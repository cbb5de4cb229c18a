package io.tsdb.core.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tsdb.core.Labels;
import io.tsdb.core.SampleIterator;
import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageStats;
import io.tsdb.wal.Durability;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.roaringbitmap.RoaringBitmap;

/**
 * RELIABILITY.md 2.1, the kill -9 loop. A child JVM ({@link CrashWriterMain}) ingests label sets in
 * the shape of {@code bench/gen_series.py} into an 8-shard store with two writer threads, printing
 * {@code T w r} before and {@code A w r} after each write call (round r of writer w). The parent
 * SIGKILLs it ({@code toHandle().destroyForcibly()}) at a seeded random time, drains the pipe to EOF
 * (whole lines only), reopens the store in-process and checks the oracle, then closes it; the next
 * child continues in the same directory with later timestamps. Kill plan per iteration: 5% at a
 * random time in the first 1.5 s (JVM start, recovery, first writes), 15% at a random point of the
 * child's open (recovery: checkpoint load, WAL replay, torn-tail truncation), 10% within 100 ms after
 * recovery, 70% after a random number of acknowledged writes (16 KiB segments roll and a checkpoint
 * with WAL truncation runs every 0.7 s meanwhile, so kills land in rolls, anchor rewrites and
 * checkpoints too).
 *
 * <p>Oracle (values are a deterministic function of series and timestamp, so any other bits are
 * detectable): <b>phantom</b> = a recovered sample of an unknown series, of a round never attempted,
 * of an old round that an earlier verification did not find, or with other bits; <b>lost</b> = an
 * acknowledged sample, or one found by an earlier verification, that is absent; <b>gaps</b> = per
 * (writer, shard), a round missing below a later recovered round of the same child (breaks the
 * per-shard prefix). PAGE_CACHE and SYNC_BATCH must lose nothing; ASYNC may lose acknowledged
 * samples of the last flush interval (reported, not failed), but nothing a previous clean close
 * made durable.
 *
 * <p>Default: 3 iterations per mode; {@code -Dtsdb.long=true}: 100; {@code -Dtsdb.kill9.iterations=n}
 * overrides both; {@code -Dtsdb.seed=s} reproduces a run; {@code -Dtsdb.kill9.segmentBytes},
 * {@code -Dtsdb.kill9.checkpointMs} (0 = off) and {@code -Dtsdb.kill9.childXmx} change the store
 * options and the child's heap (see docs/reliability-tests.md).
 */
class KillNineTest {
    static final int SERIES = 200;
    static final int WRITERS = 2;
    static final int SHARDS = 8;
    /** Rounds per writer and child, so that the store stays bounded over 100 iterations. */
    static final int MAX_ROUNDS_PER_CHILD = 800;
    /** A finding in the text of the WAL's RecoveryReport: "KIND shard=N ...". */
    private static final java.util.regex.Pattern FINDING = java.util.regex.Pattern.compile("([A-Z_]{4,}) shard=");

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @EnumSource(Durability.class)
    void killNineLoop(Durability mode) throws Exception {
        long seed = Figures.seed();
        int iterations = Integer.getInteger("tsdb.kill9.iterations", Figures.longRun() ? 100 : 3);
        Path dir = tmp.resolve("store-" + mode);
        List<Labels> labels = SeriesGen.labelSets(SERIES, seed);
        Map<Labels, Integer> index = new HashMap<>();
        int[] shardOf = new int[SERIES];
        for (int i = 0; i < SERIES; i++) {
            index.put(labels.get(i), i);
            shardOf[i] = SeriesGen.shardOf(labels.get(i), SHARDS);
        }
        BitSet[] present = new BitSet[SERIES];
        for (int i = 0; i < SERIES; i++) {
            present[i] = new BitSet();
        }
        Totals tot = new Totals();
        long nextRound = 0;
        long openNanosEstimate = TimeUnit.MILLISECONDS.toNanos(300);
        Random rnd = new Random(seed ^ (mode.ordinal() + 1) * 0x632BE59BD9B4E019L);
        StringBuilder failures = new StringBuilder();
        for (int it = 0; it < iterations; it++) {
            long startRound = nextRound;
            Path err = tmp.resolve("child-" + mode + "-" + it + ".err");
            Child child = Child.start(
                    List.of(
                            "write",
                            dir.toString(),
                            mode.name(),
                            Long.toString(seed),
                            Integer.toString(SERIES),
                            Integer.toString(WRITERS),
                            Long.toString(startRound),
                            Long.toString(MAX_ROUNDS_PER_CHILD)),
                    err,
                    startRound);
            int plan = rnd.nextInt(100);
            if (plan < 5) {
                // anywhere from JVM start through recovery into the first writes
                Thread.sleep(rnd.nextInt(1500));
            } else if (plan < 20) {
                // during recovery (open): a random point of the last observed open duration
                if (!child.opening.await(120, TimeUnit.SECONDS)) {
                    child.kill();
                    fail("iteration " + it + ": child did not start opening within 120 s; stderr: " + tail(err));
                }
                TimeUnit.NANOSECONDS.sleep((long) (rnd.nextDouble() * 1.2 * openNanosEstimate));
            } else {
                if (!child.ready.await(120, TimeUnit.SECONDS)) {
                    child.kill();
                    fail("iteration " + it + ": child not READY within 120 s; stderr: " + tail(err));
                }
                if (plan < 30) {
                    // right after recovery: first writes, anchor rewrites of the reopened segments
                    Thread.sleep(rnd.nextInt(100));
                } else {
                    // in full ingest: after a random amount of progress (rolls, checkpoints happen meanwhile)
                    long target = 20 + rnd.nextInt(600);
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                    while (child.ackCount < target && child.process.isAlive() && System.nanoTime() < deadline) {
                        Thread.sleep(5);
                    }
                    Thread.sleep(rnd.nextInt(200));
                }
            }
            boolean aliveAtKill = child.process.isAlive();
            child.kill();
            if (!aliveAtKill || child.error != null) {
                fail("iteration " + it + ": child ended by itself (exit " + child.process.exitValue() + ", error line: "
                        + child.error + "); stderr: " + tail(err));
            }
            if (child.protocolError != null) {
                fail("iteration " + it + ": child output broke the protocol: " + child.protocolError);
            }
            tot.iterations++;
            if (child.readyNanos > 0 && child.openingNanos > 0) {
                openNanosEstimate = child.readyNanos - child.openingNanos;
            }
            for (int w = 0; w < WRITERS; w++) {
                if (child.acked[w] >= startRound) {
                    tot.acked += (child.acked[w] - startRound + 1) * seriesOfWriter(w);
                }
                nextRound = Math.max(nextRound, child.tried[w] + 1);
            }
            StorageImpl store;
            try {
                store = StorageImpl.open(dir, CrashWriterMain.options(mode));
            } catch (IOException | RuntimeException e) {
                tot.failedOpens++;
                failures.append("iteration ")
                        .append(it)
                        .append(": open failed: ")
                        .append(e)
                        .append('\n');
                break;
            }
            try {
                verify(store, it, startRound, child, labels, index, shardOf, present, tot, failures, mode);
            } finally {
                store.close();
            }
        }
        String line = "kill9 mode=" + mode + " iterations=" + tot.iterations + " acked=" + tot.acked + " lost="
                + (tot.ackedLost + tot.oldLost) + " phantom=" + tot.phantom + " failedOpens=" + tot.failedOpens
                + " seed=" + seed + " gaps=" + tot.gaps + " lostPreviouslyRecovered=" + tot.oldLost
                + " walRecoveriesWithFindings=" + tot.dirtyRecoveries + " replayProblems=" + tot.replayProblems
                + " findings=" + tot.findings.toString().replace(" ", "")
                + " killsBeforeOpen=" + tot.killsBeforeOpen + " killsDuringOpen=" + tot.killsDuringOpen
                + (mode == Durability.ASYNC
                        ? " asyncItersWithLoss=" + tot.lossWindowsMs.size()
                                + " asyncLossWindowMedianMs=" + tot.medianLossWindowMs()
                                + " asyncLossWindowMaxMs=" + tot.asyncLossWindowMaxMs
                        : "");
        Figures.report(line);
        if (failures.length() > 0) {
            System.out.println(failures);
        }
        assertEquals(0, tot.failedOpens, "failed opens: " + failures);
        assertEquals(0, tot.phantom, "phantom samples: " + failures);
        assertEquals(0, tot.gaps, "per-shard prefix broken: " + failures);
        assertEquals(0, tot.oldLost, "samples of an earlier verified (cleanly closed) state lost: " + failures);
        if (mode != Durability.ASYNC) {
            assertEquals(0, tot.ackedLost, "acknowledged samples lost in " + mode + ": " + failures);
        }
        assertTrue(
                tot.acked > 0,
                "no child acknowledged anything in " + iterations + " iterations: the test checked" + " nothing (seed "
                        + seed + ")");
    }

    private static int seriesOfWriter(int w) {
        return (SERIES - w + WRITERS - 1) / WRITERS;
    }

    private static void verify(
            StorageImpl store,
            int it,
            long startRound,
            Child child,
            List<Labels> labels,
            Map<Labels, Integer> index,
            int[] shardOf,
            BitSet[] present,
            Totals tot,
            StringBuilder failures,
            Durability mode) {
        if (startRound > Integer.MAX_VALUE - 1) {
            throw new IllegalStateException("round numbers beyond the BitSet range");
        }
        BitSet[] found = new BitSet[SERIES];
        for (int i = 0; i < SERIES; i++) {
            found[i] = new BitSet();
        }
        RoaringBitmap all = store.allPostings();
        for (int ref : all) {
            Labels l = store.seriesLabels(ref);
            if (l == null) {
                continue;
            }
            Integer idx = index.get(l);
            SampleIterator sit = store.iterator(ref, Long.MIN_VALUE, Long.MAX_VALUE);
            while (sit.next()) {
                long t = sit.timestamp();
                long bits = Double.doubleToRawLongBits(sit.value());
                String why = null;
                long r = SeriesGen.round(t);
                if (idx == null) {
                    why = "sample of a series never written: " + l;
                } else if (r < 0) {
                    why = "timestamp " + t + " is no round's";
                } else if (bits != SeriesGen.valueBits(idx, t)) {
                    why = "series " + idx + " round " + r + ": bits " + Long.toHexString(bits) + ", written "
                            + Long.toHexString(SeriesGen.valueBits(idx, t));
                } else if (r < startRound && !present[idx].get((int) r)) {
                    why = "series " + idx + " round " + r + " was absent at the previous verification";
                } else if (r >= startRound && r > child.tried[idx % WRITERS]) {
                    why = "series " + idx + " round " + r + " was never attempted (writer tried up to "
                            + child.tried[idx % WRITERS] + ")";
                }
                if (why != null) {
                    tot.phantom++;
                    note(failures, "iteration " + it + ": phantom: " + why);
                } else {
                    found[idx].set((int) r);
                }
            }
        }
        for (int i = 0; i < SERIES; i++) {
            BitSet miss = (BitSet) present[i].clone();
            miss.andNot(found[i]);
            if (!miss.isEmpty()) {
                tot.oldLost += miss.cardinality();
                note(failures, "iteration " + it + ": series " + i + " lost rounds found earlier: " + miss);
            }
        }
        long firstLostAckNanos = Long.MAX_VALUE;
        for (int i = 0; i < SERIES; i++) {
            int w = i % WRITERS;
            for (long r = startRound; r <= child.acked[w]; r++) {
                if (!found[i].get((int) r)) {
                    tot.ackedLost++;
                    firstLostAckNanos = Math.min(firstLostAckNanos, child.ackNanos(w, r));
                    if (mode != Durability.ASYNC) {
                        note(
                                failures,
                                "iteration " + it + ": series " + i + " (shard " + shardOf[i]
                                        + ") acknowledged round " + r + " lost (writer " + w + " acked up to "
                                        + child.acked[w] + ")");
                    }
                }
            }
        }
        if (firstLostAckNanos != Long.MAX_VALUE) {
            long window = (child.lastAckNanos - firstLostAckNanos) / 1_000_000;
            tot.asyncLossWindowMaxMs = Math.max(tot.asyncLossWindowMaxMs, window);
            tot.lossWindowsMs.add(window);
        }
        // per (writer, shard) prefix of this child's rounds
        for (int w = 0; w < WRITERS; w++) {
            for (int s = 0; s < SHARDS; s++) {
                int maxR = -1;
                for (int i = w; i < SERIES; i += WRITERS) {
                    if (shardOf[i] == s) {
                        maxR = Math.max(maxR, found[i].previousSetBit(Integer.MAX_VALUE - 1));
                    }
                }
                for (int i = w; i < SERIES; i += WRITERS) {
                    if (shardOf[i] != s) {
                        continue;
                    }
                    for (long r = startRound; r < maxR; r++) {
                        if (!found[i].get((int) r)) {
                            tot.gaps++;
                            note(
                                    failures,
                                    "iteration " + it + ": series " + i + " (writer " + w + ", shard " + s
                                            + ") lacks round " + r + " below recovered round " + maxR);
                        }
                    }
                }
            }
        }
        System.arraycopy(found, 0, present, 0, SERIES);
        StorageStats.Replay rp = store.stats().replay();
        if (!rp.walRecoveryClean()) {
            tot.dirtyRecoveries++;
            java.util.regex.Matcher m = FINDING.matcher(String.valueOf(rp.walRecovery()));
            while (m.find()) {
                tot.findings.merge(m.group(1), 1L, Long::sum);
            }
        }
        if (rp.corruptRecords() > 0 || rp.unknownRefSamples() > 0 || rp.conflictingSeries() > 0) {
            // reported as a figure; the oracle above decides whether anything was actually lost
            tot.replayProblems++;
            note(
                    failures,
                    "iteration " + it + ": replay found problems: corrupt=" + rp.corruptRecords()
                            + " unknownRef=" + rp.unknownRefSamples() + " conflicts=" + rp.conflictingSeries()
                            + " first="
                            + rp.firstProblem());
        }
        if (child.stateAtKill == 0) {
            tot.killsBeforeOpen++;
        } else if (child.stateAtKill == 1) {
            tot.killsDuringOpen++;
        }
    }

    private static void note(StringBuilder failures, String s) {
        if (failures.length() < 20_000) {
            failures.append(s).append('\n');
        }
    }

    private static String tail(Path err) {
        try {
            if (!Files.exists(err)) {
                return "(no stderr file)";
            }
            String s = Files.readString(err, StandardCharsets.UTF_8);
            return s.length() > 4000 ? "..." + s.substring(s.length() - 4000) : s;
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    static final class Totals {
        long iterations;
        long acked;
        long ackedLost;
        long oldLost;
        long phantom;
        long gaps;
        long failedOpens;
        long dirtyRecoveries;
        final java.util.TreeMap<String, Long> findings = new java.util.TreeMap<>();
        long killsBeforeOpen;
        long killsDuringOpen;
        long asyncLossWindowMaxMs;
        final List<Long> lossWindowsMs = new ArrayList<>();

        long medianLossWindowMs() {
            if (lossWindowsMs.isEmpty()) {
                return 0;
            }
            List<Long> l = new ArrayList<>(lossWindowsMs);
            l.sort(null);
            return l.get(l.size() / 2);
        }

        long replayProblems;
    }

    /** A running child JVM and what its stdout said (whole lines only). */
    static final class Child {
        final Process process;
        final Thread reader;
        final CountDownLatch opening = new CountDownLatch(1);
        final CountDownLatch ready = new CountDownLatch(1);
        /** Acknowledged write calls so far (all writers). */
        volatile long ackCount;

        final long startRound;
        final long[] tried = new long[WRITERS];
        final long[] acked = new long[WRITERS];
        final long[][] ackNanos = new long[WRITERS][];
        long lastAckNanos;
        volatile String error;
        volatile String protocolError;
        long partialLines;
        long openingNanos;
        long readyNanos;
        /** 0: killed before OPENING (JVM start), 1: during open/recovery, 2: after READY. */
        int stateAtKill = -1;

        private Child(Process process, long startRound) {
            this.process = process;
            this.startRound = startRound;
            Arrays.fill(tried, startRound - 1);
            Arrays.fill(acked, startRound - 1);
            for (int w = 0; w < WRITERS; w++) {
                ackNanos[w] = new long[1024];
            }
            this.reader = new Thread(this::drain, "kill9-reader");
            this.reader.setDaemon(true);
            this.reader.start();
        }

        static Child start(List<String> args, Path stderr, long startRound) throws IOException {
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.add("-Xmx" + System.getProperty("tsdb.kill9.childXmx", "384m"));
            cmd.add("-XX:+UseSerialGC");
            cmd.add("-XX:TieredStopAtLevel=1");
            for (String prop : CrashWriterMain.FORWARDED_PROPERTIES) {
                if (System.getProperty(prop) != null) {
                    cmd.add("-D" + prop + "=" + System.getProperty(prop));
                }
            }
            cmd.add("-cp");
            cmd.add(ChildClasspath.get());
            cmd.add(CrashWriterMain.class.getName());
            cmd.addAll(args);
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.redirectError(stderr.toFile());
            pb.redirectInput(ProcessBuilder.Redirect.PIPE);
            return new Child(pb.start(), startRound);
        }

        long ackNanos(int w, long r) {
            int k = (int) (r - startRound);
            return k >= 0 && k < ackNanos[w].length ? ackNanos[w][k] : lastAckNanos;
        }

        /** SIGKILL, wait for the process and for the pipe to be drained to EOF. */
        void kill() throws InterruptedException {
            stateAtKill = ready.getCount() == 0 ? 2 : opening.getCount() == 0 ? 1 : 0;
            // SIGKILL through the ProcessHandle: Process.destroyForcibly() would also close our end of
            // the stdout pipe and discard the lines still in it; this way the pipe is drained to EOF.
            process.toHandle().destroyForcibly();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                throw new AssertionError("child did not die within 60 s of SIGKILL");
            }
            reader.join(60_000);
            if (reader.isAlive()) {
                throw new AssertionError("child's stdout not drained within 60 s after its death");
            }
        }

        private void drain() {
            byte[] buf = new byte[64 * 1024];
            StringBuilder line = new StringBuilder(64);
            try (InputStream in = process.getInputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    for (int k = 0; k < n; k++) {
                        byte b = buf[k];
                        if (b == '\n') {
                            handle(line.toString());
                            line.setLength(0);
                        } else {
                            line.append((char) (b & 0xff));
                        }
                    }
                }
            } catch (IOException e) {
                protocolError = "reading child stdout: " + e;
            }
            if (line.length() > 0) {
                partialLines++; // cut by the kill: does not count
            }
        }

        private void handle(String s) {
            String[] f = s.split(" ");
            try {
                switch (f[0]) {
                    case "OPENING" -> {
                        openingNanos = System.nanoTime();
                        opening.countDown();
                    }
                    case "READY" -> {
                        readyNanos = System.nanoTime();
                        ready.countDown();
                    }
                    case "T" -> {
                        int w = Integer.parseInt(f[1]);
                        long r = Long.parseLong(f[2]);
                        if (r != tried[w] + 1 || acked[w] != tried[w]) {
                            protocol("T " + w + " " + r + " after tried=" + tried[w] + " acked=" + acked[w]);
                        }
                        tried[w] = r;
                    }
                    case "A" -> {
                        int w = Integer.parseInt(f[1]);
                        long r = Long.parseLong(f[2]);
                        long nanos = Long.parseLong(f[3]);
                        if (r != tried[w] || acked[w] != r - 1) {
                            protocol("A " + w + " " + r + " after tried=" + tried[w] + " acked=" + acked[w]);
                        }
                        acked[w] = r;
                        int k = (int) (r - startRound);
                        if (k >= ackNanos[w].length) {
                            ackNanos[w] = Arrays.copyOf(ackNanos[w], Math.max(k + 1, ackNanos[w].length * 2));
                        }
                        ackNanos[w][k] = nanos;
                        lastAckNanos = Math.max(lastAckNanos, nanos);
                        ackCount++; // single writer: the reader thread
                    }
                    case "E" -> error = s;
                    case "D" -> {} // a writer reached MAX_ROUNDS_PER_CHILD and idles
                    default -> protocol("unknown line: " + s);
                }
            } catch (RuntimeException e) {
                protocol("unparsable line \"" + s + "\": " + e);
            }
        }

        private void protocol(String msg) {
            if (protocolError == null) {
                protocolError = msg;
            }
        }
    }
}
