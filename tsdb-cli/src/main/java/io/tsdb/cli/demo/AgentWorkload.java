package io.tsdb.cli.demo;

import io.tsdb.core.Labels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A realistic monitoring-agent workload: a number of instances of one service, each exposing
 * HTTP request counters (method, status, path), a latency histogram per path (classic buckets,
 * _sum, _count), node CPU, memory, load, network and filesystem series, and a few process gauges.
 * Values evolve like the real thing: counters only grow, histogram buckets are cumulative and
 * consistent with _count, gauges random-walk. Deterministic for a given seed.
 *
 * <p>Not thread-safe per instance: one writer thread owns each {@link Instance}.
 */
public final class AgentWorkload {
    static final String[] METHODS = {"GET", "POST", "PUT", "DELETE"};
    static final String[] STATUSES = {"200", "404", "500"};
    static final String[] PATHS = {"/api/users", "/api/orders", "/login"};
    static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    static final String[] CPU_MODES = {"user", "system", "idle", "iowait"};
    static final String[] DEVICES = {"eth0", "eth1", "lo"};
    static final String[] MOUNTS = {"/", "/var", "/home", "/data"};

    private AgentWorkload() {}

    /** One scraped target: its series (labels) and the state that produces their next values. */
    public static final class Instance {
        public final String name;
        public final List<Labels> series = new ArrayList<>();
        final double[] values;
        private final SplittableRandom rnd;
        private final int cpus = 4;
        // indexes into series/values
        private final int httpStart;
        private final int histStart;
        private final int cpuStart;
        private final int otherStart;
        private final double[] rates;
        private final double[] pathMu;
        private final double[][] bucketCdf;
        private final double[] meanLatency;

        Instance(int index, long seed) {
            this.name = String.format("host-%02d:9100", index);
            this.rnd = new SplittableRandom(seed * 7919 + index);
            String inst = name;
            httpStart = series.size();
            rates = new double[METHODS.length * STATUSES.length * PATHS.length];
            int r = 0;
            for (String m : METHODS) {
                for (String s : STATUSES) {
                    for (String p : PATHS) {
                        series.add(Labels.of(
                                "__name__",
                                "http_requests_total",
                                "job",
                                "api",
                                "instance",
                                inst,
                                "method",
                                m,
                                "status",
                                s,
                                "path",
                                p));
                        double base = m.equals("GET") ? 40 : m.equals("POST") ? 12 : 3;
                        double statusShare = s.equals("200") ? 0.93 : s.equals("404") ? 0.05 : 0.02;
                        rates[r++] = base * statusShare * (1 + 0.3 * rnd.nextDouble());
                    }
                }
            }
            histStart = series.size();
            pathMu = new double[PATHS.length];
            bucketCdf = new double[PATHS.length][BUCKETS.length];
            meanLatency = new double[PATHS.length];
            for (int pi = 0; pi < PATHS.length; pi++) {
                String p = PATHS[pi];
                pathMu[pi] = Math.log(0.02 + 0.03 * pi);
                meanLatency[pi] = Math.exp(pathMu[pi] + SIGMA * SIGMA / 2);
                for (int b = 0; b < BUCKETS.length; b++) {
                    bucketCdf[pi][b] = normalCdf((Math.log(BUCKETS[b]) - pathMu[pi]) / SIGMA);
                }
                for (double le : BUCKETS) {
                    series.add(Labels.of(
                            "__name__",
                            "http_request_duration_seconds_bucket",
                            "job",
                            "api",
                            "instance",
                            inst,
                            "path",
                            p,
                            "le",
                            formatLe(le)));
                }
                series.add(Labels.of(
                        "__name__",
                        "http_request_duration_seconds_bucket",
                        "job",
                        "api",
                        "instance",
                        inst,
                        "path",
                        p,
                        "le",
                        "+Inf"));
                series.add(Labels.of(
                        "__name__", "http_request_duration_seconds_sum", "job", "api", "instance", inst, "path", p));
                series.add(Labels.of(
                        "__name__", "http_request_duration_seconds_count", "job", "api", "instance", inst, "path", p));
            }
            cpuStart = series.size();
            for (int c = 0; c < cpus; c++) {
                for (String mode : CPU_MODES) {
                    series.add(Labels.of(
                            "__name__",
                            "node_cpu_seconds_total",
                            "job",
                            "node",
                            "instance",
                            inst,
                            "cpu",
                            Integer.toString(c),
                            "mode",
                            mode));
                }
            }
            otherStart = series.size();
            for (String d : DEVICES) {
                series.add(Labels.of(
                        "__name__", "node_network_receive_bytes_total", "job", "node", "instance", inst, "device", d));
                series.add(Labels.of(
                        "__name__", "node_network_transmit_bytes_total", "job", "node", "instance", inst, "device", d));
            }
            for (String m : MOUNTS) {
                series.add(Labels.of(
                        "__name__", "node_filesystem_avail_bytes", "job", "node", "instance", inst, "mountpoint", m));
            }
            for (String g : new String[] {
                "node_load1",
                "node_load5",
                "node_load15",
                "node_memory_MemAvailable_bytes",
                "process_resident_memory_bytes",
                "go_goroutines",
                "up",
                "process_cpu_seconds_total"
            }) {
                series.add(Labels.of("__name__", g, "job", g.startsWith("node_") ? "node" : "api", "instance", inst));
            }
            for (String p : PATHS) {
                series.add(Labels.of("__name__", "http_requests_in_flight", "job", "api", "instance", inst, "path", p));
            }
            values = new double[series.size()];
            // initial gauges
            for (int i = otherStart; i < values.length; i++) {
                values[i] = 0;
            }
        }

        /** Advances the state by one scrape interval of {@code seconds} and returns the values (owned by this instance). */
        public double[] next(double seconds) {
            // HTTP counters and, per path, the requests that feed the histogram
            int[] perPath = new int[PATHS.length];
            for (int i = 0; i < rates.length; i++) {
                double lambda = rates[i] * seconds;
                int n = (int) Math.max(0, Math.round(lambda + Math.sqrt(lambda) * rnd.nextGaussian()));
                values[httpStart + i] += n;
                perPath[i % PATHS.length] += n;
            }
            int per = BUCKETS.length + 3;
            for (int pi = 0; pi < PATHS.length; pi++) {
                int base = histStart + pi * per;
                // latencies are log-normal(mu, SIGMA): draw how many of the n requests fall in each
                // bucket interval (normal approximation of the multinomial), then accumulate
                int n = perPath[pi];
                long total = 0;
                long cumulative = 0;
                double prev = 0;
                for (int b = 0; b <= BUCKETS.length; b++) {
                    double cdf = b < BUCKETS.length ? bucketCdf[pi][b] : 1.0;
                    double expect = n * (cdf - prev);
                    prev = cdf;
                    long k = Math.max(0, Math.round(expect + Math.sqrt(expect) * rnd.nextGaussian()));
                    cumulative += k;
                    if (b < BUCKETS.length) {
                        values[base + b] += cumulative;
                    }
                    total = cumulative;
                }
                values[base + BUCKETS.length] += total; // +Inf bucket
                values[base + BUCKETS.length + 1] += total * meanLatency[pi] * (1 + 0.05 * rnd.nextGaussian()); // _sum
                values[base + BUCKETS.length + 2] += total; // _count
            }
            for (int c = 0; c < cpus; c++) {
                double user = seconds * (0.2 + 0.2 * rnd.nextDouble());
                double sys = seconds * (0.05 + 0.05 * rnd.nextDouble());
                double iowait = seconds * 0.01 * rnd.nextDouble();
                int b = cpuStart + c * CPU_MODES.length;
                values[b] += user;
                values[b + 1] += sys;
                values[b + 2] += Math.max(0, seconds - user - sys - iowait);
                values[b + 3] += iowait;
            }
            int i = otherStart;
            for (int d = 0; d < DEVICES.length; d++) {
                values[i++] += Math.floor(seconds * (d == 2 ? 2e4 : 1.5e6) * (0.5 + rnd.nextDouble()));
                values[i++] += Math.floor(seconds * (d == 2 ? 2e4 : 0.8e6) * (0.5 + rnd.nextDouble()));
            }
            for (int m = 0; m < MOUNTS.length; m++, i++) {
                if (values[i] == 0) {
                    values[i] = 50e9 * (m + 1);
                }
                values[i] = Math.max(1e9, values[i] - Math.floor(rnd.nextDouble() * 4096) * 4096);
            }
            values[i] = Math.max(0, 0.8 * (values[i] == 0 ? 1.5 : values[i]) + 0.2 * (1 + 2 * rnd.nextDouble()));
            i++;
            values[i] = 0.95 * (values[i] == 0 ? 1.5 : values[i]) + 0.05 * values[i - 1];
            i++;
            values[i] = 0.98 * (values[i] == 0 ? 1.5 : values[i]) + 0.02 * values[i - 1];
            i++;
            values[i] = values[i] == 0 ? 6e9 : Math.max(5e8, values[i] + (rnd.nextDouble() - 0.5) * 5e7);
            i++;
            values[i] = values[i] == 0 ? 2.5e8 : Math.max(1e8, values[i] + Math.floor((rnd.nextDouble() - 0.45) * 1e6));
            i++;
            values[i] = values[i] == 0 ? 120 : Math.max(20, values[i] + rnd.nextInt(11) - 5);
            i++;
            values[i] = 1;
            i++; // up
            values[i] += seconds * 0.3 * rnd.nextDouble();
            i++;
            for (int p = 0; p < PATHS.length; p++, i++) {
                values[i] = rnd.nextInt(8);
            }
            return values;
        }
    }

    static final double SIGMA = 0.9;

    /** Standard normal CDF (Abramowitz and Stegun 7.1.26, error below 1.5e-7). */
    static double normalCdf(double x) {
        double z = Math.abs(x) / Math.sqrt(2);
        double t = 1 / (1 + 0.3275911 * z);
        double erf = 1
                - t
                        * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
                        * Math.exp(-z * z);
        return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
    }

    static String formatLe(double le) {
        String s = Double.toString(le);
        return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
    }

    /** Builds {@code instances} targets. */
    public static List<Instance> instances(int instances, long seed) {
        List<Instance> out = new ArrayList<>();
        for (int i = 0; i < instances; i++) {
            out.add(new Instance(i, seed));
        }
        return out;
    }
}
