package io.tsdb.query.promql;

import static io.tsdb.query.promql.ValueType.MATRIX;
import static io.tsdb.query.promql.ValueType.SCALAR;
import static io.tsdb.query.promql.ValueType.STRING;
import static io.tsdb.query.promql.ValueType.VECTOR;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Signatures of the PromQL functions the parser knows. */
public final class Functions {
    private Functions() {}

    /**
     * A function signature. {@code variadic}: 0 = exactly the arguments listed, n > 0 = up to n of the last argument
     * type may be omitted or repeated as Prometheus defines (see {@link #minArgs}/{@link #maxArgs}).
     */
    public record Function(
            String name,
            List<ValueType> argTypes,
            int minArgs,
            int maxArgs,
            ValueType returnType,
            boolean nativeHistogramOnly) {
        ValueType argType(int i) {
            return i < argTypes.size() ? argTypes.get(i) : argTypes.get(argTypes.size() - 1);
        }
    }

    private static final Map<String, Function> FUNCTIONS = new HashMap<>();

    private static void def(String name, ValueType ret, ValueType... args) {
        FUNCTIONS.put(name, new Function(name, List.of(args), args.length, args.length, ret, false));
    }

    private static void defVar(String name, ValueType ret, int min, int max, ValueType... args) {
        FUNCTIONS.put(name, new Function(name, List.of(args), min, max, ret, false));
    }

    private static void defHist(String name, ValueType ret, ValueType... args) {
        FUNCTIONS.put(name, new Function(name, List.of(args), args.length, args.length, ret, true));
    }

    static {
        for (String f : List.of(
                "abs",
                "ceil",
                "floor",
                "exp",
                "ln",
                "log2",
                "log10",
                "sqrt",
                "sgn",
                "acos",
                "acosh",
                "asin",
                "asinh",
                "atan",
                "atanh",
                "cos",
                "cosh",
                "sin",
                "sinh",
                "tan",
                "tanh",
                "deg",
                "rad",
                "sort",
                "sort_desc",
                "timestamp",
                "absent")) {
            def(f, VECTOR, VECTOR);
        }
        for (String f : List.of(
                "avg_over_time",
                "count_over_time",
                "last_over_time",
                "max_over_time",
                "min_over_time",
                "stddev_over_time",
                "stdvar_over_time",
                "sum_over_time",
                "present_over_time",
                "absent_over_time",
                "mad_over_time",
                "changes",
                "resets",
                "delta",
                "deriv",
                "idelta",
                "increase",
                "irate",
                "rate",
                "ts_of_max_over_time",
                "ts_of_min_over_time",
                "ts_of_last_over_time",
                "first_over_time",
                "ts_of_first_over_time")) {
            def(f, VECTOR, MATRIX);
        }
        def("quantile_over_time", VECTOR, SCALAR, MATRIX);
        def("predict_linear", VECTOR, MATRIX, SCALAR);
        def("holt_winters", VECTOR, MATRIX, SCALAR, SCALAR);
        def("double_exponential_smoothing", VECTOR, MATRIX, SCALAR, SCALAR);
        def("clamp", VECTOR, VECTOR, SCALAR, SCALAR);
        def("clamp_max", VECTOR, VECTOR, SCALAR);
        def("clamp_min", VECTOR, VECTOR, SCALAR);
        for (String f : List.of(
                "day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year")) {
            defVar(f, VECTOR, 0, 1, VECTOR);
        }
        def("histogram_quantile", VECTOR, SCALAR, VECTOR);
        def("label_replace", VECTOR, VECTOR, STRING, STRING, STRING, STRING);
        defVar("label_join", VECTOR, 3, Integer.MAX_VALUE, VECTOR, STRING, STRING, STRING);
        def("pi", SCALAR);
        def("time", SCALAR);
        def("scalar", SCALAR, VECTOR);
        def("vector", VECTOR, SCALAR);
        defVar("round", VECTOR, 1, 2, VECTOR, SCALAR);
        defVar("sort_by_label", VECTOR, 1, Integer.MAX_VALUE, VECTOR, STRING);
        defVar("sort_by_label_desc", VECTOR, 1, Integer.MAX_VALUE, VECTOR, STRING);
        for (String f :
                List.of("histogram_avg", "histogram_count", "histogram_sum", "histogram_stddev", "histogram_stdvar")) {
            defHist(f, VECTOR, VECTOR);
        }
        defHist("histogram_fraction", VECTOR, SCALAR, SCALAR, VECTOR);
    }

    /**
     * The function of that name, or null.
     *
     * @param name a PromQL function name
     * @return its definition, or null
     */
    public static Function get(String name) {
        return FUNCTIONS.get(name);
    }
}
