package io.tsdb.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class TimeArgsTest {
    private static final CommandLine CL = new CommandLine(new QueryCommand());
    private static final Instant NOW = Instant.parse("2026-12-08T01:00:00Z");

    private static Instant time(String s) {
        return TimeArgs.parseTime(CL, "--start", s, NOW);
    }

    @Test
    void nowPlusOrMinusAPromqlDurationIsRelativeToTheGivenNow() {
        assertEquals(NOW, time("now"));
        assertEquals(NOW.minusSeconds(30), time("now-30s"));
        assertEquals(NOW.minusSeconds(60), time("now-1m"));
        assertEquals(NOW.minusSeconds(3600), time("now-1h"));
        assertEquals(NOW.plusSeconds(300), time("now+5m"));
        assertEquals(NOW.minusSeconds(5400), time("now-1h30m"));
        assertEquals(NOW.minusMillis(1500), time("now-1s500ms"));
        assertEquals(NOW.minus(Duration.ofDays(2)), time("now-2d"));
        assertEquals(NOW.minus(Duration.ofDays(7)), time("now-1w"));
        assertEquals(NOW.minus(Duration.ofDays(365)), time("now-1y"));
        assertEquals(NOW, time("now-0s"));
    }

    @Test
    void theAbsoluteFormsStillParse() {
        assertEquals(Instant.ofEpochMilli(1_700_000_000_500L), time("1700000000.5"));
        assertEquals(Instant.parse("2024-01-02T03:04:05Z"), time("2024-01-02T03:04:05Z"));
        assertEquals(Instant.parse("2024-01-02T01:04:05Z"), time("2024-01-02T03:04:05+02:00"));
    }

    @Test
    void aBadValueIsQuotedInTheError() {
        for (String bad : new String[] {
            "now-",
            "now+",
            "now-1x",
            "now-h",
            "now-1h-",
            "now - 1h",
            "now*1h",
            "nowish",
            "now-1.5h",
            "yesterday",
            "",
            "now-99999999999999999999s",
            "now-999999999999y"
        }) {
            CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class, () -> time(bad), bad);
            assertTrue(e.getMessage().startsWith("--start: '" + bad + "'"), e.getMessage());
            assertTrue(e.getMessage().contains("now-1h"), "the message shows the relative form: " + e.getMessage());
        }
    }

    @Test
    void durationsOverflowingMillisecondsAreRejectedNotWrapped() {
        assertEquals(null, TimeArgs.durationMillis("99999999999999999999s"));
        assertEquals(null, TimeArgs.durationMillis("300000000y"));
        assertEquals(5_400_000L, TimeArgs.durationMillis("1h30m"));
        CommandLine.ParameterException e = assertThrows(
                CommandLine.ParameterException.class, () -> TimeArgs.parseDuration(CL, "--step", "300000000y"));
        assertTrue(e.getMessage().contains("'300000000y' is not a positive duration"), e.getMessage());
    }
}
