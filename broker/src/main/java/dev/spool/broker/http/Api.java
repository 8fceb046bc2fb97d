package dev.spool.broker.http;

import dev.spool.broker.auth.LoginGuard;
import dev.spool.broker.auth.TokenService;
import dev.spool.broker.auth.UserStore;
import dev.spool.broker.config.BrokerConfig;
import dev.spool.storage.QueueStore;

import java.time.Clock;

/** What the handlers share. */
public record Api(QueueStore store, TokenService tokens, UserStore users, LoginGuard logins, BrokerConfig config,
                  Waiters waiters, Clock clock, SettleForwarding forwarding) {

    int maxMessageBytes() {
        return config.server().maxMessageBytes();
    }
}
