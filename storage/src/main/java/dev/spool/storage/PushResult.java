package dev.spool.storage;

/** Outcome of {@link QueueStore#push} and {@link QueueStore#pushBatch}. */
public sealed interface PushResult {

    /**
     * The messages were stored with the consecutive ids {@code firstId .. firstId + count - 1}.
     *
     * @param durability what the messages survive now that the call has returned
     */
    record Stored(long firstId, int count, Durability durability) implements PushResult {
        /** The id of the {@code i}-th message of the push, from 0. */
        public long id(int i) {
            if (i < 0 || i >= count) {
                throw new IndexOutOfBoundsException("i must be in [0, " + count + "), was " + i);
            }
            return firstId + i;
        }
    }

    /** Nothing was stored: the messages do not fit under the queue's max length. */
    record Full(long depth, long maxLength) implements PushResult {
    }

    /** Nothing was stored: there is no such queue. */
    record NoSuchQueue() implements PushResult {
    }
}
