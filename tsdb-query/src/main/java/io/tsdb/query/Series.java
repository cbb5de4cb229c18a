package io.tsdb.query;

import io.tsdb.core.Labels;
import io.tsdb.core.SampleIterator;

/** A selected series: its labels and a lazy iterator over its samples in the selected time range. */
public interface Series {
    /** {@return the series' labels} */
    Labels labels();

    /** {@return a fresh iterator each call; samples are read chunk by chunk, never all at once} */
    SampleIterator iterator();
}
