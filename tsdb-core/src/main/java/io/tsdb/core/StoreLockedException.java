package io.tsdb.core;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The store directory is already open for writing, by another process or in this JVM. Only one
 * writer may hold a store; inspection tools open it with {@link StorageImpl#openReadOnly}.
 */
public class StoreLockedException extends IOException {
    private final Path directory;
    private final long holderPid;

    public StoreLockedException(Path directory, long holderPid, String message) {
        super(message);
        this.directory = directory;
        this.holderPid = holderPid;
    }

    /** The store directory. */
    public Path directory() {
        return directory;
    }

    /** The process id of the holder as it recorded it, or -1 when unknown. */
    public long holderPid() {
        return holderPid;
    }
}
