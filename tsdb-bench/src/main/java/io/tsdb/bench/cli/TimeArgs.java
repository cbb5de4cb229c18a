package io.tsdb.bench.cli;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** Parsing of time and duration arguments the way Prometheus's HTTP API accepts them. */
final class TimeArgs {
    private static final Pattern DURATION_PART = Pattern.compile("(\\d+)(ms|y|w|d|h|m|s)");

    private TimeArgs() {}

    /** RFC 3339, Unix seconds (with fraction), or "now". */
    static Instant parseTime(CommandLine cl, String option, String s) {
        if (s.equals("now")) {
            return Instant.now();
        }
        try {
            BigDecimal secs = new BigDecimal(s);
            return Instant.ofEpochMilli(secs.movePointRight(3).setScale(0, java.math.RoundingMode.HALF_UP).longValueExact());
        } catch (NumberFormatException | ArithmeticException e) {
            // not a number: try RFC 3339
        }
        try {
            return OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e) {
            throw new CommandLine.ParameterException(cl, option + ": '" + s
                    + "' is neither RFC 3339 (2024-01-02T03:04:05Z), Unix seconds, nor 'now'");
        }
    }

    /** A PromQL duration (1h30m, 15s, 500ms) or a number of seconds; must be positive. */
    static Duration parseDuration(CommandLine cl, String option, String s) {
        Duration d = null;
        try {
            BigDecimal secs = new BigDecimal(s);
            d = Duration.ofMillis(secs.movePointRight(3).setScale(0, java.math.RoundingMode.HALF_UP).longValueExact());
        } catch (NumberFormatException | ArithmeticException e) {
            Matcher m = DURATION_PART.matcher(s);
            int at = 0;
            long ms = 0;
            while (at < s.length() && m.find(at) && m.start() == at) {
                long n = Long.parseLong(m.group(1));
                ms += n * switch (m.group(2)) {
                    case "ms" -> 1L;
                    case "s" -> 1000L;
                    case "m" -> 60_000L;
                    case "h" -> 3_600_000L;
                    case "d" -> 86_400_000L;
                    case "w" -> 604_800_000L;
                    default -> 31_536_000_000L; // y
                };
                at = m.end();
            }
            if (at == s.length() && at > 0) {
                d = Duration.ofMillis(ms);
            }
        }
        if (d == null || d.isNegative() || d.isZero()) {
            throw new CommandLine.ParameterException(cl, option + ": '" + s
                    + "' is not a positive duration (e.g. 15s, 1m, 1h30m, or seconds)");
        }
        return d;
    }
}
