package dev.spool.broker.http;

import dev.spool.broker.auth.TokenService;
import dev.spool.broker.auth.UserStore;
import dev.spool.storage.QueueStore;

/** What the handlers share. */
public record Api(QueueStore store, TokenService tokens, UserStore users, int maxMessageBytes, long defaultMaxLength,
           boolean pushBlocks) {
}
