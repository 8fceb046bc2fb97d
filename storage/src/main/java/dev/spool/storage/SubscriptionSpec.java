package dev.spool.storage;

/**
 * What a subscription is created with.
 *
 * @param start           where it starts reading
 * @param maxDeliveries   deliveries after which an unacknowledged message moves to its dead-letter queue (0: never);
 *                        null for the queue's own setting
 * @param deadLetterQueue its dead-letter queue's name; null for {@code <queue>.<subscription>.dlq}
 * @param paused          whether it starts paused
 */
public record SubscriptionSpec(SubscriptionStart start, Integer maxDeliveries, String deadLetterQueue,
                               boolean paused) {
    public SubscriptionSpec {
        if (start == null) {
            throw new IllegalArgumentException("a subscription needs a start");
        }
    }

    /** The dead-letter queue of subscription {@code name} of {@code queue} when none is given. */
    public static String defaultDeadLetterQueue(String queue, String name) {
        return queue + "." + name + ".dlq";
    }
}
