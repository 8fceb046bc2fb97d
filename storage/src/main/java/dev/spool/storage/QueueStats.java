package dev.spool.storage;

import java.time.Instant;

/**
 * A snapshot of one queue.
 *
 * @param name        the queue's name
 * @param depth       messages stored and not yet pulled
 * @param maxLength   the most unconsumed messages the queue accepts
 * @param type        the type tag given at creation, or null
 * @param createdAt   when the queue was created
 * @param totalPushed messages pushed since creation
 * @param totalPulled messages pulled since creation
 * @param bytesOnDisk bytes the queue's files occupy on disk (allocated blocks, not apparent size)
 * @param inFlight    messages leased (or released with a delay) and not yet acknowledged
 * @param damagedCopies damaged files recovered around and kept for inspection (the newest few)
 * @param counts      counts of this process's operations
 * @param failure     why the queue takes no changes (a sync of its files failed), or null while it takes them
 * @param replication how the queue's data is replicated, on a replicating backend (else null)
 */
public record QueueStats(String name, long depth, long maxLength, String type, Instant createdAt,
                         long totalPushed, long totalPulled, long bytesOnDisk, int inFlight, int damagedCopies,
                         QueueCounts counts, String failure, Replication replication)
        implements StatsResult {
    /**
     * A replicated queue's settings as the engine has them: {@code factor} replicas, pushes answered once
     * {@code minInsync} hold them, {@code inSync} replicas caught up now.
     */
    public record Replication(int factor, int minInsync, int inSync) {
    }

    /** A queue that may have failed, on a backend that does not replicate. */
    public QueueStats(String name, long depth, long maxLength, String type, Instant createdAt, long totalPushed,
                      long totalPulled, long bytesOnDisk, int inFlight, int damagedCopies, QueueCounts counts,
                      String failure) {
        this(name, depth, maxLength, type, createdAt, totalPushed, totalPulled, bytesOnDisk, inFlight, damagedCopies,
                counts, failure, null);
    }

    /** A queue that takes changes. */
    public QueueStats(String name, long depth, long maxLength, String type, Instant createdAt, long totalPushed,
                      long totalPulled, long bytesOnDisk, int inFlight, int damagedCopies, QueueCounts counts) {
        this(name, depth, maxLength, type, createdAt, totalPushed, totalPulled, bytesOnDisk, inFlight, damagedCopies,
                counts, null, null);
    }
}
