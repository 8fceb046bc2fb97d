package dev.spool.storage;

/** Outcome of {@link QueueStore#append}. */
public sealed interface PushResult permits PushResult.Stored, PushResult.Full, NoSuchQueue {

    /**
     * The messages were stored with the consecutive ids {@code firstId .. firstId + count - 1}, or, when
     * idempotency keys named messages stored before, with the ids in {@code ids}.
     *
     * @param durability what the messages survive now that the call has returned
     * @param ids        each message's id when they are not consecutive, else null
     * @param duplicates how many messages were not stored because their key was seen in the window
     */
    record Stored(long firstId, int count, Durability durability, long[] ids, int duplicates) implements PushResult {
        public Stored(long firstId, int count, Durability durability) {
            this(firstId, count, durability, null, 0);
        }

        /** The id of the {@code i}-th message of the push, from 0. */
        public long id(int i) {
            if (i < 0 || i >= count) {
                throw new IndexOutOfBoundsException("i must be in [0, " + count + "), was " + i);
            }
            return ids != null ? ids[i] : firstId + i;
        }
    }

    /** Nothing was stored: the messages do not fit under the queue's max length. */
    record Full(long depth, long maxLength) implements PushResult {
    }
}
