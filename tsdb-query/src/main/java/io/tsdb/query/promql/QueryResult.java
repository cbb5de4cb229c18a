package io.tsdb.query.promql;

import io.tsdb.core.Labels;
import java.util.List;

/**
 * The result of a PromQL query: a value (scalar, string, vector or matrix) and the annotations Prometheus would
 * attach: warnings ({@code PromQL warning: ...}) and infos ({@code PromQL info: ...}).
 */
public record QueryResult(Value value, List<String> warnings, List<String> infos) {
    public QueryResult {
        warnings = List.copyOf(warnings);
        infos = List.copyOf(infos);
    }

    public QueryResult(Value value, List<String> warnings) {
        this(value, warnings, List.of());
    }

    /** A query result value. */
    public sealed interface Value permits Scalar, StringValue, Vector, Matrix {
        ValueType type();
    }

    public record Scalar(long timestamp, double value) implements Value {
        public ValueType type() { return ValueType.SCALAR; }

        @Override
        public String toString() {
            return "scalar: " + formatValue(value) + " @[" + timestamp + "]";
        }
    }

    public record StringValue(long timestamp, String value) implements Value {
        public ValueType type() { return ValueType.STRING; }

        @Override
        public String toString() {
            return "string: " + value + " @[" + timestamp + "]";
        }
    }

    /** One element of an instant vector. */
    public record VectorSample(Labels labels, long timestamp, double value) {
        @Override
        public String toString() {
            return labels + " => " + formatValue(value) + " @[" + timestamp + "]";
        }
    }

    public record Vector(List<VectorSample> samples) implements Value {
        public Vector {
            samples = List.copyOf(samples);
        }

        public ValueType type() { return ValueType.VECTOR; }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            for (VectorSample s : samples) {
                sb.append(s).append('\n');
            }
            return sb.length() == 0 ? "(empty vector)" : sb.substring(0, sb.length() - 1);
        }
    }

    public record Point(long timestamp, double value) {
        @Override
        public String toString() {
            return formatValue(value) + " @[" + timestamp + "]";
        }
    }

    /** One series of a range vector / range query result. */
    public record SeriesPoints(Labels labels, List<Point> points) {
        public SeriesPoints {
            points = List.copyOf(points);
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder().append(labels).append(" =>");
            for (Point p : points) {
                sb.append("\n  ").append(p);
            }
            return sb.toString();
        }
    }

    public record Matrix(List<SeriesPoints> series) implements Value {
        public Matrix {
            series = List.copyOf(series);
        }

        public ValueType type() { return ValueType.MATRIX; }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            for (SeriesPoints s : series) {
                sb.append(s).append('\n');
            }
            return sb.length() == 0 ? "(empty matrix)" : sb.substring(0, sb.length() - 1);
        }
    }

    /** Formats a float like Prometheus does ({@code +Inf}, {@code -Inf}, {@code NaN}, shortest decimal). */
    public static String formatValue(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (v == Double.POSITIVE_INFINITY) {
            return "+Inf";
        }
        if (v == Double.NEGATIVE_INFINITY) {
            return "-Inf";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }

    @Override
    public String toString() {
        String s = value.toString();
        if (!warnings.isEmpty()) {
            s += "\nwarnings: " + String.join("; ", warnings);
        }
        if (!infos.isEmpty()) {
            s += "\ninfos: " + String.join("; ", infos);
        }
        return s;
    }
}
