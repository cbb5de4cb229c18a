package io.tsdb.query.promql;

import java.util.Arrays;
import java.util.List;

/** The functions over range vectors ({@code rate}, {@code *_over_time}, ...), one series window at a time. */
final class RangeFunctions {
    private RangeFunctions() {}

    /** Returned when the function yields no sample for this window. */
    static final double NONE = Double.longBitsToDouble(0x7ff8dead0000beefL);

    static boolean isNone(double v) {
        return Double.doubleToRawLongBits(v) == 0x7ff8dead0000beefL;
    }

    /**
     * Applies a function to the samples {@code [lo, hi)} of one series; the window is {@code (rangeStart, rangeEnd]};
     * {@code stepT} is the evaluation time; {@code scalars} holds the other (scalar) arguments in order.
     */
    static double apply(
            String name,
            long[] t,
            double[] v,
            int lo,
            int hi,
            long rangeStart,
            long rangeEnd,
            long range,
            long stepT,
            List<Evaluator.Val> scalars,
            int step) {
        int n = hi - lo;
        switch (name) {
            case "rate":
                return extrapolatedRate(t, v, lo, hi, rangeStart, rangeEnd, range, true, true);
            case "increase":
                return extrapolatedRate(t, v, lo, hi, rangeStart, rangeEnd, range, true, false);
            case "delta":
                return extrapolatedRate(t, v, lo, hi, rangeStart, rangeEnd, range, false, false);
            case "irate":
            case "idelta": {
                if (n < 2) {
                    return NONE;
                }
                double last = v[hi - 1];
                double prev = v[hi - 2];
                double r = name.equals("irate") && last < prev ? last : last - prev;
                if (name.equals("irate")) {
                    long dt = t[hi - 1] - t[hi - 2];
                    if (dt == 0) {
                        return NONE;
                    }
                    r = r / (dt / 1000.0);
                }
                return r;
            }
            case "changes": {
                int c = 0;
                for (int i = lo + 1; i < hi; i++) {
                    double cur = v[i];
                    double prev = v[i - 1];
                    if (cur != prev && !(Double.isNaN(cur) && Double.isNaN(prev))) {
                        c++;
                    }
                }
                return c;
            }
            case "resets": {
                int c = 0;
                for (int i = lo + 1; i < hi; i++) {
                    if (v[i] < v[i - 1]) {
                        c++;
                    }
                }
                return c;
            }
            case "deriv": {
                if (n < 2) {
                    return NONE;
                }
                return linearRegression(t, v, lo, hi, t[lo])[0];
            }
            case "predict_linear": {
                if (n < 2) {
                    return NONE;
                }
                double dur = ((Evaluator.ScalarVal) scalars.get(0)).v()[step];
                double[] si = linearRegression(t, v, lo, hi, stepT);
                return si[0] * dur + si[1];
            }
            case "avg_over_time":
                return mean(v, lo, hi);
            case "sum_over_time": {
                double sum = 0;
                double c = 0;
                for (int i = lo; i < hi; i++) {
                    double[] r = kahanSumInc(v[i], sum, c);
                    sum = r[0];
                    c = r[1];
                }
                return Double.isInfinite(sum) ? sum : sum + c;
            }
            case "count_over_time":
                return n;
            case "present_over_time":
                return 1;
            case "last_over_time":
                return v[hi - 1];
            case "first_over_time":
                return v[lo];
            case "ts_of_last_over_time":
                return t[hi - 1] / 1000.0;
            case "ts_of_first_over_time":
                return t[lo] / 1000.0;
            case "max_over_time":
            case "ts_of_max_over_time": {
                double m = v[lo];
                int at = lo;
                for (int i = lo + 1; i < hi; i++) {
                    if (v[i] > m || Double.isNaN(m)) {
                        m = v[i];
                        at = i;
                    }
                }
                return name.startsWith("ts_") ? t[at] / 1000.0 : m;
            }
            case "min_over_time":
            case "ts_of_min_over_time": {
                double m = v[lo];
                int at = lo;
                for (int i = lo + 1; i < hi; i++) {
                    if (v[i] < m || Double.isNaN(m)) {
                        m = v[i];
                        at = i;
                    }
                }
                return name.startsWith("ts_") ? t[at] / 1000.0 : m;
            }
            case "stddev_over_time":
                return Math.sqrt(variance(v, lo, hi));
            case "stdvar_over_time":
                return variance(v, lo, hi);
            case "quantile_over_time": {
                double q = ((Evaluator.ScalarVal) scalars.get(0)).v()[step];
                double[] vals = Arrays.copyOfRange(v, lo, hi);
                return quantile(q, vals);
            }
            case "mad_over_time": {
                double[] vals = Arrays.copyOfRange(v, lo, hi);
                double median = quantile(0.5, vals.clone());
                double[] dev = new double[vals.length];
                for (int i = 0; i < vals.length; i++) {
                    dev[i] = Math.abs(vals[i] - median);
                }
                return quantile(0.5, dev);
            }
            case "holt_winters":
            case "double_exponential_smoothing": {
                double sf = ((Evaluator.ScalarVal) scalars.get(0)).v()[step];
                double tf = ((Evaluator.ScalarVal) scalars.get(1)).v()[step];
                if (sf <= 0 || sf >= 1) {
                    throw new PromqlEvalException("invalid smoothing factor. Expected: 0 < sf < 1, got: " + sf);
                }
                if (tf <= 0 || tf >= 1) {
                    throw new PromqlEvalException("invalid trend factor. Expected: 0 < tf < 1, got: " + tf);
                }
                if (n < 2) {
                    return NONE;
                }
                double s0 = 0;
                double s1 = v[lo];
                double b = v[lo + 1] - v[lo];
                for (int i = 1; i < n; i++) {
                    double x = sf * v[lo + i];
                    b = i == 1 ? b : tf * (s1 - s0) + (1 - tf) * b;
                    double y = (1 - sf) * (s1 + b);
                    s0 = s1;
                    s1 = x + y;
                }
                return s1;
            }
            default:
                throw new UnsupportedOperationException("function \"" + name + "\" is not implemented");
        }
    }

    static double extrapolatedRate(
            long[] t,
            double[] v,
            int lo,
            int hi,
            long rangeStart,
            long rangeEnd,
            long range,
            boolean isCounter,
            boolean isRate) {
        int n = hi - lo;
        if (n < 2) {
            return NONE;
        }
        int numSamplesMinusOne = n - 1;
        long firstT = t[lo];
        long lastT = t[hi - 1];
        double result = v[hi - 1] - v[lo];
        if (isCounter) {
            double prev = v[lo];
            for (int i = lo + 1; i < hi; i++) {
                if (v[i] < prev) {
                    result += prev;
                }
                prev = v[i];
            }
        }
        double durationToStart = (firstT - rangeStart) / 1000.0;
        double durationToEnd = (rangeEnd - lastT) / 1000.0;
        double sampledInterval = (lastT - firstT) / 1000.0;
        double averageDurationBetweenSamples = sampledInterval / numSamplesMinusOne;
        double extrapolationThreshold = averageDurationBetweenSamples * 1.1;
        double extrapolateToInterval = sampledInterval;
        if (durationToStart >= extrapolationThreshold) {
            durationToStart = averageDurationBetweenSamples / 2;
        }
        if (isCounter && result > 0 && v[lo] >= 0) {
            double durationToZero = sampledInterval * (v[lo] / result);
            if (durationToZero < durationToStart) {
                durationToStart = durationToZero;
            }
        }
        extrapolateToInterval += durationToStart;
        if (durationToEnd >= extrapolationThreshold) {
            durationToEnd = averageDurationBetweenSamples / 2;
        }
        extrapolateToInterval += durationToEnd;
        double factor = extrapolateToInterval / sampledInterval;
        if (isRate) {
            factor /= range / 1000.0;
        }
        return result * factor;
    }

    /** Neumaier-compensated addition: returns {newSum, newC}. */
    static double[] kahanSumInc(double inc, double sum, double c) {
        double t = sum + inc;
        if (Double.isInfinite(t)) {
            c = 0;
        } else if (Math.abs(sum) >= Math.abs(inc)) {
            c += (sum - t) + inc;
        } else {
            c += (inc - t) + sum;
        }
        return new double[] {t, c};
    }

    /** Mean with Kahan summation, switching to an incremental mean if the sum would overflow (as Prometheus). */
    static double mean(double[] v, int lo, int hi) {
        int n = hi - lo;
        if (n == 1) {
            return v[lo];
        }
        double sum = v[lo];
        double c = 0;
        double mean = 0;
        double count = 1;
        boolean incremental = false;
        for (int i = lo + 1; i < hi; i++) {
            double x = v[i];
            count++;
            if (!incremental) {
                double[] r = kahanSumInc(x, sum, c);
                if (!Double.isInfinite(r[0])) {
                    sum = r[0];
                    c = r[1];
                    continue;
                }
                incremental = true;
                mean = sum / (count - 1);
                c = c / (count - 1);
            }
            if (Double.isInfinite(mean)) {
                if (Double.isInfinite(x) && (mean > 0) == (x > 0)) {
                    continue;
                }
                if (!Double.isInfinite(x) && !Double.isNaN(x)) {
                    continue;
                }
            }
            double q = (count - 1) / count;
            double[] r = kahanSumInc(x / count, q * mean, q * c);
            mean = r[0];
            c = r[1];
        }
        if (incremental) {
            return Double.isInfinite(mean) ? mean : mean + c;
        }
        double total = Double.isInfinite(sum) ? sum : sum + c;
        return total / count;
    }

    static double variance(double[] v, int lo, int hi) {
        double count = 0;
        double mean = 0;
        double cMean = 0;
        double aux = 0;
        double cAux = 0;
        for (int i = lo; i < hi; i++) {
            double x = v[i];
            count++;
            double delta = x - (mean + cMean);
            double[] r = kahanSumInc(delta / count, mean, cMean);
            mean = r[0];
            cMean = r[1];
            r = kahanSumInc(delta * (x - (mean + cMean)), aux, cAux);
            aux = r[0];
            cAux = r[1];
        }
        return (aux + cAux) / count;
    }

    /** Prometheus's quantile over values (NaN sorts lowest); sorts {@code vals} in place. */
    static double quantile(double q, double[] vals) {
        if (vals.length == 0 || Double.isNaN(q)) {
            return Double.NaN;
        }
        if (q < 0) {
            return Double.NEGATIVE_INFINITY;
        }
        if (q > 1) {
            return Double.POSITIVE_INFINITY;
        }
        Double[] boxed = new Double[vals.length];
        for (int i = 0; i < vals.length; i++) {
            boxed[i] = vals[i];
        }
        Arrays.sort(boxed, (a, b) -> {
            boolean an = Double.isNaN(a);
            boolean bn = Double.isNaN(b);
            if (an || bn) {
                return Boolean.compare(bn, an);
            }
            return Double.compare(a, b);
        });
        double n = boxed.length;
        double rank = q * (n - 1);
        double lower = Math.max(0, Math.floor(rank));
        double upper = Math.min(n - 1, lower + 1);
        double weight = rank - Math.floor(rank);
        return boxed[(int) lower] * (1 - weight) + boxed[(int) upper] * weight;
    }

    /** Least-squares {slope, intercept} with x relative to interceptTime, in seconds (Prometheus's linearRegression). */
    static double[] linearRegression(long[] t, double[] v, int lo, int hi, long interceptTime) {
        double n = 0;
        double sumX = 0;
        double cX = 0;
        double sumY = 0;
        double cY = 0;
        double sumXY = 0;
        double cXY = 0;
        double sumX2 = 0;
        double cX2 = 0;
        double initY = v[lo];
        boolean constY = true;
        for (int i = lo; i < hi; i++) {
            if (constY && i > lo && v[i] != initY) {
                constY = false;
            }
            n += 1;
            double x = (t[i] - interceptTime) / 1e3;
            double[] r = kahanSumInc(x, sumX, cX);
            sumX = r[0];
            cX = r[1];
            r = kahanSumInc(v[i], sumY, cY);
            sumY = r[0];
            cY = r[1];
            r = kahanSumInc(x * v[i], sumXY, cXY);
            sumXY = r[0];
            cXY = r[1];
            r = kahanSumInc(x * x, sumX2, cX2);
            sumX2 = r[0];
            cX2 = r[1];
        }
        if (constY) {
            if (Double.isInfinite(initY)) {
                return new double[] {Double.NaN, Double.NaN};
            }
            return new double[] {0, initY};
        }
        sumX += cX;
        sumY += cY;
        sumXY += cXY;
        sumX2 += cX2;
        double covXY = sumXY - sumX * sumY / n;
        double varX = sumX2 - sumX * sumX / n;
        double slope = covXY / varX;
        double intercept = sumY / n - slope * sumX / n;
        return new double[] {slope, intercept};
    }
}
