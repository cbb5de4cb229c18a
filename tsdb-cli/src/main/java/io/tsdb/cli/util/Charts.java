package io.tsdb.cli.util;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

/** Writes XChart charts as PNG files, headless. */
public final class Charts {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {}

    /** Saves one chart as a PNG at {@code file} (which should end in .png). */
    public static <T extends Chart<?, ?>> void savePng(T chart, Path file) throws IOException {
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /** Saves a grid of charts (rows x cols, row-major) as one PNG. */
    public static <T extends Chart<?, ?>> void savePngGrid(List<T> charts, int rows, int cols, Path file)
            throws IOException {
        BitmapEncoder.saveBitmap(charts, rows, cols, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
