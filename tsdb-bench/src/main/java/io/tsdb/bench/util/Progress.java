package io.tsdb.bench.util;

import java.io.PrintStream;

/**
 * A one-line progress bar on stderr, redrawn in place ({@code \r}) at most every 200 ms, only when
 * stderr is a terminal or {@code TSDB_PROGRESS=1}; otherwise silent except for {@link #done()},
 * so that logs stay readable.
 */
public final class Progress {
    private final String label;
    private final long total;
    private final PrintStream err;
    private final boolean enabled;
    private final long startNanos = System.nanoTime();
    private long lastDraw;

    public Progress(String label, long total) {
        this(label, total, System.err, System.console() != null || "1".equals(System.getenv("TSDB_PROGRESS")));
    }

    public Progress(String label, long total, PrintStream err, boolean enabled) {
        this.label = label;
        this.total = Math.max(1, total);
        this.err = err;
        this.enabled = enabled && !"0".equals(System.getenv("TSDB_PROGRESS"));
    }

    /** Reports {@code done} units of {@code total}; cheap to call often. */
    public synchronized void update(long done, String extra) {
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastDraw < 200_000_000L && done < total) {
            return;
        }
        lastDraw = now;
        int width = 30;
        double f = Math.min(1.0, done / (double) total);
        int filled = (int) Math.round(f * width);
        StringBuilder sb = new StringBuilder("\r").append(label).append(" [");
        for (int i = 0; i < width; i++) {
            sb.append(i < filled ? '#' : '.');
        }
        sb.append(String.format("] %3.0f%% %5.1fs", f * 100, (now - startNanos) / 1e9));
        if (extra != null && !extra.isEmpty()) {
            sb.append(' ').append(extra);
        }
        sb.append("   ");
        err.print(sb);
        err.flush();
    }

    /** Ends the line. */
    public synchronized void done() {
        if (enabled) {
            update(total, null);
            err.println();
            err.flush();
        }
    }
}
