package dev.spool.storage;

/**
 * What happened to a queue's messages since it was opened in this process (counts start at zero after a
 * restart, as counters do).
 *
 * @param duplicates   pushes recognised by their idempotency key and not stored again
 * @param taken        messages pulled destructively
 * @param delivered    leases handed out (a message leased twice counts twice)
 * @param acked        leases acknowledged
 * @param nacked       leases released by a nack
 * @param expired      leases that timed out without an ack
 * @param deadLettered messages moved to the dead-letter queue
 * @param redriven     messages moved back into this queue from its dead-letter queue
 */
public record QueueCounts(long duplicates, long taken, long delivered, long acked, long nacked, long expired,
                          long deadLettered, long redriven) {
}
