package dev.spool.storage;

import java.time.Instant;

/** Where a subscription starts reading, at its creation or a seek (the replay). */
public sealed interface SubscriptionStart {

    /** The oldest message the queue still holds. */
    record Earliest() implements SubscriptionStart {
    }

    /** The next message pushed (none of those stored now). */
    record Latest() implements SubscriptionStart {
    }

    /** The message with this id, or the first after it if that id has no message (a void id). */
    record AtId(long id) implements SubscriptionStart {
    }

    /** The first message appended at or after this time (to the second: at most a second early, never late). */
    record FromTime(Instant time) implements SubscriptionStart {
    }
}
