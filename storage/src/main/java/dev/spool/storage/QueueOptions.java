package dev.spool.storage;

/**
 * Options a queue is created with.
 *
 * @param maxLength       the most unacknowledged messages the queue holds; a push beyond it is refused
 * @param type            a free-form type tag kept as metadata (for example {@code "transaction"}), or null
 * @param maxDeliveries   a message leased this many times without an ack moves to the dead-letter queue;
 *                        0 means never
 * @param deadLetterQueue where such messages go, or null for {@code <name>.dlq}
 * @param retentionMaxAgeSeconds how old a journal file its named subscriptions may hold back (0: the store's
 *                        {@code retention.max_age})
 * @param retentionMaxBytes how many bytes of journal files they may hold back (0: the store's
 *                        {@code retention.max_bytes})
 */
public record QueueOptions(long maxLength, String type, int maxDeliveries, String deadLetterQueue,
                           long retentionMaxAgeSeconds, long retentionMaxBytes) implements OptionsResult {
    public QueueOptions {
        if (retentionMaxAgeSeconds < 0 || retentionMaxBytes < 0) {
            throw new IllegalArgumentException("retention bounds must be >= 0, were " + retentionMaxAgeSeconds
                    + " s and " + retentionMaxBytes + " bytes");
        }
        if (maxLength <= 0) {
            throw new IllegalArgumentException("max_length must be > 0, was " + maxLength);
        }
        if (type != null && (type.isEmpty() || type.length() > 64)) {
            throw new IllegalArgumentException("type must be 1 to 64 characters, was '" + type + "'");
        }
        if (maxDeliveries < 0) {
            throw new IllegalArgumentException("max_deliveries must be >= 0, was " + maxDeliveries);
        }
        if (deadLetterQueue != null && !QueueStore.isValidName(deadLetterQueue)) {
            throw new IllegalArgumentException("dead_letter_queue must match " + QueueStore.NAME_PATTERN + ", was '"
                    + deadLetterQueue + "'");
        }
    }

    /** Options with the store's retention bounds. */
    public QueueOptions(long maxLength, String type, int maxDeliveries, String deadLetterQueue) {
        this(maxLength, type, maxDeliveries, deadLetterQueue, 0, 0);
    }

    /** These options with retention bounds of the queue's own (0: the store's). */
    public QueueOptions withRetention(long maxAgeSeconds, long maxBytes) {
        return new QueueOptions(maxLength, type, maxDeliveries, deadLetterQueue, maxAgeSeconds, maxBytes);
    }

    /** Options without dead-lettering. */
    public QueueOptions(long maxLength, String type) {
        this(maxLength, type, 0, null);
    }

    /** Options with a max length and no type tag. */
    public static QueueOptions ofMaxLength(long maxLength) {
        return new QueueOptions(maxLength, null);
    }

    /** The dead-letter queue's name for a queue called {@code name}. */
    public String deadLetterQueueFor(String name) {
        return deadLetterQueue != null ? deadLetterQueue : name + ".dlq";
    }
}
