package io.tsdb.wal;

import java.nio.file.FileSystemException;

/**
 * The file system ran out of space (ENOSPC, or a quota) while the shard wrote a block, created a
 * segment or rewrote its anchor. The write that hit it fails; a partial block written before the
 * error is truncated away (and is never read back as valid, its CRC would not match); records
 * acknowledged earlier stay readable. Writes resume by themselves once space is freed: the next
 * append (or flush, or the background flusher) simply retries the write path, no reopen needed.
 * In {@link Durability#ASYNC} mode the records are already acknowledged and stay in RAM until the
 * retry succeeds; see docs/durability.md.
 */
public class StorageFullException extends WalException {
    private final int shard;
    private final String file;

    public StorageFullException(int shard, String file, String message, Throwable cause) {
        super("shard " + shard + " file " + file + ": no space left on the device: " + message, cause);
        this.shard = shard;
        this.file = file;
    }

    private StorageFullException(StorageFullException e) {
        super(e.getMessage(), e);
        this.shard = e.shard;
        this.file = e.file;
    }

    /** A new exception for one more waiter of the same failed write (its own stack trace, same message). */
    StorageFullException copyForCaller() {
        return new StorageFullException(this);
    }

    /** The shard whose write failed. */
    public int shard() {
        return shard;
    }

    /** The file being written or created (a segment, {@code anchor.tmp}, an index) when space ran out. */
    public String file() {
        return file;
    }

    /**
     * True if {@code e} (or a cause of it) reports a full device or an exhausted quota: ENOSPC
     * ("No space left on device"), EDQUOT ("Disk quota exceeded"), or Windows' ERROR_DISK_FULL
     * ("There is not enough space on the disk"). Java reports these only as an IOException
     * message (from {@code FileChannel.write}) or a {@link FileSystemException} reason (from
     * {@code Files} operations), so the text is what can be checked.
     */
    public static boolean isNoSpace(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof StorageFullException) return true;
            if (mentionsNoSpace(t.getMessage())) return true;
            if (t instanceof FileSystemException fse && mentionsNoSpace(fse.getReason())) return true;
            if (t.getCause() == t) break;
        }
        return false;
    }

    private static boolean mentionsNoSpace(String m) {
        if (m == null) return false;
        String s = m.toLowerCase(java.util.Locale.ROOT);
        return s.contains("no space left on device")
                || s.contains("disk quota exceeded")
                || s.contains("not enough space on the disk");
    }
}
