package dev.spool.broker.http;

import dev.spool.broker.auth.TokenService;
import dev.spool.broker.auth.UserStore;
import dev.spool.broker.config.BrokerConfig;
import dev.spool.storage.Fsync;
import dev.spool.storage.QueueStore;

import java.time.Clock;

/** What the handlers share. */
public record Api(QueueStore store, TokenService tokens, UserStore users, BrokerConfig config, Waiters waiters,
                  Clock clock) {

    /** Whether a push waits for a sync (so it must not run on an IO thread). */
    boolean pushBlocks() {
        return config.fsync() != Fsync.NONE;
    }

    /** Whether a pull syncs its cursor (so it should not run on an IO thread). */
    boolean pullBlocks() {
        return config.fsync() == Fsync.ALWAYS;
    }

    int maxMessageBytes() {
        return config.maxMessageBytes();
    }
}
