package io.tsdb.cli;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Parsing of time and duration arguments: the forms Prometheus's HTTP API accepts (RFC 3339, Unix seconds), plus
 * {@code now} and times relative to it ({@code now-1h}, {@code now+5m}, {@code now-1h30m}).
 */
final class TimeArgs {
    private static final Pattern DURATION_PART = Pattern.compile("(\\d+)(ms|y|w|d|h|m|s)");
    /** {@code now}, then optionally a sign and a PromQL duration. */
    private static final Pattern RELATIVE = Pattern.compile("now(?:([+-])(.*))?");

    static final String TIME_FORMS = "RFC 3339 (2024-01-02T03:04:05Z), Unix seconds (1700000000.5), 'now', or 'now'"
            + " plus or minus a duration (now-1h, now-1h30m, now+5m; units ms s m h d w y)";

    private TimeArgs() {}

    /**
     * RFC 3339, Unix seconds (with fraction), {@code now}, or {@code now±DURATION}, where {@code now} is the given
     * instant (one per command, so that {@code --start now-1h --end now} spans exactly an hour).
     *
     * @throws CommandLine.ParameterException quoting the value and the accepted forms
     */
    static Instant parseTime(CommandLine cl, String option, String s, Instant now) {
        Matcher rel = RELATIVE.matcher(s);
        if (rel.matches()) {
            if (rel.group(1) == null) {
                return now;
            }
            Long ms = durationMillis(rel.group(2));
            if (ms == null) {
                throw new CommandLine.ParameterException(
                        cl,
                        option + ": '" + s + "': '" + rel.group(2) + "' after now" + rel.group(1)
                                + " is not a duration; times are " + TIME_FORMS);
            }
            try {
                return rel.group(1).equals("-") ? now.minusMillis(ms) : now.plusMillis(ms);
            } catch (DateTimeException | ArithmeticException e) {
                throw new CommandLine.ParameterException(cl, option + ": '" + s + "' is out of the range of times");
            }
        }
        try {
            BigDecimal secs = new BigDecimal(s);
            return Instant.ofEpochMilli(
                    secs.movePointRight(3).setScale(0, RoundingMode.HALF_UP).longValueExact());
        } catch (NumberFormatException | ArithmeticException e) {
            // not a number: try RFC 3339
        }
        try {
            return OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e) {
            throw new CommandLine.ParameterException(cl, option + ": '" + s + "' is neither " + TIME_FORMS);
        }
    }

    /**
     * A PromQL duration: one or more {@code <integer><unit>} with units ms, s, m, h, d, w, y ({@code 1h30m}); null if
     * {@code s} is not one or does not fit in a long of milliseconds.
     */
    static Long durationMillis(String s) {
        Matcher m = DURATION_PART.matcher(s);
        int at = 0;
        long ms = 0;
        try {
            while (at < s.length() && m.find(at) && m.start() == at) {
                long n = Long.parseLong(m.group(1));
                long unit = switch (m.group(2)) {
                    case "ms" -> 1L;
                    case "s" -> 1000L;
                    case "m" -> 60_000L;
                    case "h" -> 3_600_000L;
                    case "d" -> 86_400_000L;
                    case "w" -> 604_800_000L;
                    default -> 31_536_000_000L; // y
                };
                ms = Math.addExact(ms, Math.multiplyExact(n, unit));
                at = m.end();
            }
        } catch (NumberFormatException | ArithmeticException e) {
            return null;
        }
        return at == s.length() && at > 0 ? ms : null;
    }

    /** A PromQL duration (1h30m, 15s, 500ms) or a number of seconds; must be positive. */
    static Duration parseDuration(CommandLine cl, String option, String s) {
        Duration d = null;
        try {
            BigDecimal secs = new BigDecimal(s);
            d = Duration.ofMillis(
                    secs.movePointRight(3).setScale(0, RoundingMode.HALF_UP).longValueExact());
        } catch (NumberFormatException | ArithmeticException e) {
            Long ms = durationMillis(s);
            d = ms == null ? null : Duration.ofMillis(ms);
        }
        if (d == null || d.isNegative() || d.isZero()) {
            throw new CommandLine.ParameterException(
                    cl, option + ": '" + s + "' is not a positive duration (e.g. 15s, 1m, 1h30m, or seconds)");
        }
        return d;
    }
}
