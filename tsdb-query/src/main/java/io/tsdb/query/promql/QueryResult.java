package io.tsdb.query.promql;

import io.tsdb.core.Labels;
import java.util.List;

/**
 * The result of a PromQL query: a value (scalar, string, vector or matrix) and the annotations Prometheus would
 * attach: warnings ({@code PromQL warning: ...}) and infos ({@code PromQL info: ...}). Immutable. Every
 * timestamp in it is in milliseconds since the Unix epoch.
 *
 * @param value    the value
 * @param warnings the warnings, copied
 * @param infos    the infos, copied
 */
public record QueryResult(Value value, List<String> warnings, List<String> infos) {
    /**
     * @param value    the value
     * @param warnings the warnings, copied
     * @param infos    the infos, copied
     * @throws NullPointerException if {@code warnings} or {@code infos} is null or holds a null
     */
    public QueryResult {
        warnings = List.copyOf(warnings);
        infos = List.copyOf(infos);
    }

    /**
     * A result without infos.
     *
     * @param value    the value
     * @param warnings the warnings, copied
     * @throws NullPointerException if {@code warnings} is null or holds a null
     */
    public QueryResult(Value value, List<String> warnings) {
        this(value, warnings, List.of());
    }

    /** A query result value. */
    public sealed interface Value permits Scalar, StringValue, Vector, Matrix {
        /** {@return which of the four kinds this is} */
        ValueType type();
    }

    /**
     * A scalar result.
     *
     * @param timestamp evaluation time, ms since the epoch
     * @param value     the number
     */
    public record Scalar(long timestamp, double value) implements Value {
        /** {@return {@link ValueType#SCALAR}} */
        public ValueType type() {
            return ValueType.SCALAR;
        }

        @Override
        public String toString() {
            return "scalar: " + formatValue(value) + " @[" + timestamp + "]";
        }
    }

    /**
     * A string result.
     *
     * @param timestamp evaluation time, ms since the epoch
     * @param value     the string
     */
    public record StringValue(long timestamp, String value) implements Value {
        /** {@return {@link ValueType#STRING}} */
        public ValueType type() {
            return ValueType.STRING;
        }

        @Override
        public String toString() {
            return "string: " + value + " @[" + timestamp + "]";
        }
    }

    /**
     * One element of an instant vector.
     *
     * @param labels    the series' labels
     * @param timestamp evaluation time, ms since the epoch
     * @param value     the value
     */
    public record VectorSample(Labels labels, long timestamp, double value) {
        @Override
        public String toString() {
            return labels + " => " + formatValue(value) + " @[" + timestamp + "]";
        }
    }

    /**
     * An instant vector result.
     *
     * @param samples the elements, copied
     */
    public record Vector(List<VectorSample> samples) implements Value {
        /**
         * @param samples the elements, copied
         * @throws NullPointerException if {@code samples} is null or holds a null
         */
        public Vector {
            samples = List.copyOf(samples);
        }

        /** {@return {@link ValueType#VECTOR}} */
        public ValueType type() {
            return ValueType.VECTOR;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            for (VectorSample s : samples) {
                sb.append(s).append('\n');
            }
            return sb.length() == 0 ? "(empty vector)" : sb.substring(0, sb.length() - 1);
        }
    }

    /**
     * One point of a series in a matrix.
     *
     * @param timestamp ms since the epoch
     * @param value     the value
     */
    public record Point(long timestamp, double value) {
        @Override
        public String toString() {
            return formatValue(value) + " @[" + timestamp + "]";
        }
    }

    /**
     * One series of a range vector / range query result.
     *
     * @param labels the series' labels
     * @param points the points, oldest first, copied
     */
    public record SeriesPoints(Labels labels, List<Point> points) {
        /**
         * @param labels the series' labels
         * @param points the points, copied
         * @throws NullPointerException if {@code points} is null or holds a null
         */
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

    /**
     * A range vector (instant query) or range query result.
     *
     * @param series the series, copied
     */
    public record Matrix(List<SeriesPoints> series) implements Value {
        /**
         * @param series the series, copied
         * @throws NullPointerException if {@code series} is null or holds a null
         */
        public Matrix {
            series = List.copyOf(series);
        }

        /** {@return {@link ValueType#MATRIX}} */
        public ValueType type() {
            return ValueType.MATRIX;
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder();
            for (SeriesPoints s : series) {
                sb.append(s).append('\n');
            }
            return sb.length() == 0 ? "(empty matrix)" : sb.substring(0, sb.length() - 1);
        }
    }

    /**
     * Formats a float like Prometheus does ({@code +Inf}, {@code -Inf}, {@code NaN}, shortest decimal).
     *
     * @param v the value
     * @return its text
     */
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
