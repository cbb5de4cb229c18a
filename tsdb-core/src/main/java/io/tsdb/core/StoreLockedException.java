package io.tsdb.core;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The store directory is already open for writing, by another process or in this JVM. Only one
 * writer may hold a store; inspection tools open it with {@link StorageImpl#openReadOnly}.
 */
public class StoreLockedException extends IOException {
    /** The store directory. */
    private final Path directory;
    /** The holder's process id, or -1. */
    private final long holderPid;

    /**
     * @param directory the store directory
     * @param holderPid the process id of the holder as it recorded it, or -1 when unknown
     * @param message   names the directory and the holder
     */
    public StoreLockedException(Path directory, long holderPid, String message) {
        super(message);
        this.directory = directory;
        this.holderPid = holderPid;
    }

    /** {@return the store directory} */
    public Path directory() {
        return directory;
    }

    /** {@return the process id of the holder as it recorded it, or -1 when unknown} */
    public long holderPid() {
        return holderPid;
    }
}
