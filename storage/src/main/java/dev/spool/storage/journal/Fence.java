package dev.spool.storage.journal;

import dev.spool.storage.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a queue takes changes. Once a sync of its files fails, what they hold is unknown (after a failed fsync
 * the page cache may have dropped the pages it could not write, and a retried fsync proves nothing), so the queue
 * takes none until the store opens it again (a restart), which re-reads the files.
 *
 * <p>Thread-safe; {@link #check} is one volatile read.
 */
final class Fence {
    private static final Logger LOG = LoggerFactory.getLogger(Fence.class);
    private final String queue;
    private volatile String why;

    Fence(String queue) {
        this.queue = queue;
    }

    /**
     * Closes the fence for good, with its reason; false if it was closed already. The reason is shown to clients
     * (stats, {@code /health/ready}, errors): it names what failed, never the operating system's words, which the
     * caller logs.
     */
    synchronized boolean close(String reason) {
        if (why != null) {
            return false;
        }
        why = reason;
        return true;
    }

    /**
     * Closes the fence for a failure of the files, logging it once with the failure's own words (which the reason,
     * shown to clients, leaves out); false if it was closed already.
     */
    boolean close(String reason, Throwable cause) {
        if (!close(reason)) {
            return false;
        }
        LOG.error("queue '{}' takes no more changes: {} ({}); restart the broker to re-check its files", queue, reason,
                String.valueOf(cause));
        return true;
    }

    /** Why the queue takes no changes, or null while it takes them. */
    String why() {
        return why;
    }

    /** Throws {@link StoreException.Code#QUEUE_FAILED} if the queue takes no changes. */
    void check() {
        String reason = why;
        if (reason != null) {
            throw new StoreException(StoreException.Code.QUEUE_FAILED, "queue '" + queue + "' takes no changes since "
                    + reason + "; nothing was changed; restart the broker to re-check its files", null);
        }
    }
}
