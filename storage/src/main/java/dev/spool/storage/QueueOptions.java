package dev.spool.storage;

/**
 * Options a queue is created with.
 *
 * @param maxLength the most unconsumed messages the queue holds; a push beyond it is refused
 * @param type      a free-form type tag kept as metadata (for example {@code "transaction"}), or null
 */
public record QueueOptions(long maxLength, String type) {
    public QueueOptions {
        if (maxLength <= 0) {
            throw new IllegalArgumentException("max_length must be > 0, was " + maxLength);
        }
        if (type != null && (type.isEmpty() || type.length() > 64)) {
            throw new IllegalArgumentException("type must be 1 to 64 characters, was '" + type + "'");
        }
    }

    /** Options with a max length and no type tag. */
    public static QueueOptions ofMaxLength(long maxLength) {
        return new QueueOptions(maxLength, null);
    }
}
