package io.tsdb.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tsdb.core.Labels;
import io.tsdb.core.Sample;
import io.tsdb.core.StorageImpl;
import io.tsdb.core.StorageOptions;
import io.tsdb.core.TimeSeries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8, point 2: {@code tsdb stats} and {@code tsdb query} open the store read-only, so they run
 * beside the agent that writes it (which holds the store's lock) and change none of its files.
 */
class InspectBesideWriterTest {

    private static TreeMap<String, String> snapshot(Path root) throws Exception {
        TreeMap<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                m.put(
                        root.relativize(p).toString(),
                        Files.isDirectory(p)
                                ? "dir"
                                : Files.size(p) + " "
                                        + Files.getLastModifiedTime(p).toMillis() + " "
                                        + java.util.Arrays.hashCode(Files.readAllBytes(p)));
            }
        }
        return m;
    }

    @Test
    void statsAndQueryRunBesideTheWriterAndChangeNoFile(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("db");
        // no background checkpoints: the writer stays idle while the commands run
        StorageOptions o = StorageOptions.builder()
                .checkpointInterval(Duration.ZERO)
                .checkpointWalBytes(0)
                .build();
        try (StorageImpl writer = StorageImpl.open(dir, o)) {
            for (String job : new String[] {"a", "b"}) {
                List<Sample> samples = new ArrayList<>();
                for (int i = 0; i <= 20; i++) {
                    samples.add(new Sample(i * 15_000L, i * 10.0));
                }
                writer.write(new TimeSeries(Labels.of("__name__", "requests_total", "job", job), samples));
            }
            writer.flush();
            TreeMap<String, String> before = snapshot(dir);
            CliTest.Run stats = CliTest.run("stats", dir.toString());
            assertEquals(0, stats.rc(), stats.err());
            assertTrue(stats.out().contains("head: 2 series, 42 samples"), stats.out());
            CliTest.Run q = CliTest.run("query", dir.toString(), "sum(requests_total)", "--at", "300");
            assertEquals(0, q.rc(), q.err());
            assertTrue(q.out().contains("{} => 400 @300"), q.out());
            assertEquals(before, snapshot(dir), "the inspection commands wrote nothing into the store");
            writer.write(new TimeSeries(
                    Labels.of("__name__", "requests_total", "job", "a"), List.of(new Sample(301_000, 1))));
        }
    }
}
