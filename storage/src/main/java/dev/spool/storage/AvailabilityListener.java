package dev.spool.storage;

/**
 * Told when messages become available in a queue: pushed, released, a lease expired, a delay ended,
 * redriven or dead-lettered into it. Called on the store's or the caller's thread after the queue's
 * locks are released; it must be quick and must not block (waking a waiting request is the use).
 */
@FunctionalInterface
public interface AvailabilityListener {
    void available(String queue, int count);
}
