package io.tsdb.core;

import java.util.List;

/**
 * A batch write wrote its valid samples and rejected others. {@link #rejected()} lists each rejected
 * sample: the index of the series in the batch, the index of the sample in that series (-1 when the
 * whole series was rejected, e.g. for invalid labels), a flat index over all samples of the batch,
 * and the reason.
 */
public class PartialWriteException extends IllegalArgumentException {
    /**
     * One rejected sample or series.
     *
     * @param seriesIndex index of the series in the batch ({@link StorageImpl#write}); 0 from an {@link Appender}
     * @param sampleIndex index of the sample in its series, or -1 when the whole series was rejected;
     *                    from an {@link Appender}, the append index since the last commit or rollback
     * @param flatIndex   index of the sample over all samples of the batch (the append index for an appender)
     * @param reason      why: a {@link SampleRejectedException}, {@link InvalidLabelsException} or
     *                    {@link LimitExceededException}
     */
    public record Rejection(int seriesIndex, int sampleIndex, long flatIndex, RuntimeException reason) {
        @Override
        public String toString() {
            return "#" + flatIndex + " (series " + seriesIndex + (sampleIndex >= 0 ? ", sample " + sampleIndex : "")
                    + "): " + reason.getMessage();
        }
    }

    private final transient List<Rejection> rejected;
    /** Samples rejected. */
    private final long rejectedSamples;
    /** Samples written. */
    private final long writtenSamples;

    /**
     * @param rejected        the rejections, copied
     * @param rejectedSamples samples rejected (a rejected series counts all its samples)
     * @param writtenSamples  samples written
     */
    /**
     * What a write call that rejected {@code rejected} (in input order) and wrote
     * {@code writtenSamples} throws: the reason itself when a single rejection left nothing written
     * (so {@code write(TimeSeries)} of one bad sample throws, say, {@link OutOfOrderSampleException}),
     * else a {@code PartialWriteException} whose cause is the first reason.
     */
    static RuntimeException of(List<Rejection> rejected, long rejectedSamples, long writtenSamples) {
        if (rejected.size() == 1 && writtenSamples == 0) {
            return rejected.get(0).reason();
        }
        PartialWriteException e = new PartialWriteException(rejected, rejectedSamples, writtenSamples);
        if (!rejected.isEmpty()) {
            e.initCause(rejected.get(0).reason());
        }
        return e;
    }

    public PartialWriteException(List<Rejection> rejected, long rejectedSamples, long writtenSamples) {
        super(message(rejected, rejectedSamples, writtenSamples));
        this.rejected = List.copyOf(rejected);
        this.rejectedSamples = rejectedSamples;
        this.writtenSamples = writtenSamples;
    }

    private static String message(List<Rejection> rejected, long rejectedSamples, long writtenSamples) {
        StringBuilder sb = new StringBuilder();
        sb.append(rejectedSamples)
                .append(" of ")
                .append(rejectedSamples + writtenSamples)
                .append(" samples rejected, ")
                .append(writtenSamples)
                .append(" written");
        int shown = 0;
        for (Rejection r : rejected) {
            if (shown++ == 10) {
                sb.append("; ... (").append(rejected.size() - 10).append(" more)");
                break;
            }
            sb.append(shown == 1 ? ": " : "; ").append(r);
        }
        return sb.toString();
    }

    /** {@return the rejections, in batch order; immutable} */
    public List<Rejection> rejected() {
        return rejected;
    }

    /** {@return the number of samples rejected} */
    public long rejectedSamples() {
        return rejectedSamples;
    }

    /** {@return the number of samples written} */
    public long writtenSamples() {
        return writtenSamples;
    }
}
