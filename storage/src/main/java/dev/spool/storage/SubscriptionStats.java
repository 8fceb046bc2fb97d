package dev.spool.storage;

import java.time.Instant;

/**
 * One named subscription of a queue.
 *
 * @param queue           the queue's name
 * @param name            the subscription's name
 * @param position        the id of the last message it consumed in order (its cursor; 0 for none)
 * @param backlog         messages stored after its position and not acknowledged through it
 * @param inFlight        messages leased (or released with a delay) and not yet acknowledged
 * @param oldestAgeMillis how long ago the oldest message it has not consumed was appended (to the second; 0 when
 *                        it has none)
 * @param skipped         messages it never received because the queue's retention bounds dropped them first
 * @param paused          whether pulls and leases through it are answered empty
 * @param createdAt       when it was created
 * @param maxDeliveries   deliveries after which a message moves to its dead-letter queue (0: never)
 * @param deadLetterQueue its dead-letter queue
 * @param counts          counts of this process's operations through it
 */
public record SubscriptionStats(String queue, String name, long position, long backlog, int inFlight,
                                long oldestAgeMillis, long skipped, boolean paused, Instant createdAt,
                                int maxDeliveries, String deadLetterQueue, QueueCounts counts)
        implements SubscriptionResult {
}
