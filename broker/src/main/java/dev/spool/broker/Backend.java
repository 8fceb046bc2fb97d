package dev.spool.broker;

import dev.spool.broker.auth.TokenService;
import dev.spool.broker.auth.UserStore;
import dev.spool.broker.config.BrokerConfig;
import dev.spool.broker.config.ConfigLoader;
import dev.spool.broker.http.net.HttpServer;
import dev.spool.broker.http.MessageCodec;
import dev.spool.storage.QueueStore;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.journal.JournalQueueStore;
import dev.spool.storage.kafka.KafkaQueueStore;
import dev.spool.storage.kafka.KafkaSettings;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/**
 * Where the broker keeps its queues, users and sessions: chosen from the configuration here and nowhere else
 * ({@code storage.backend}). Each choice opens its own store and its own kind of users and sessions.
 */
sealed interface Backend permits Backend.Journal, Backend.Cluster {

    /** The backend {@code config} names. */
    static Backend of(BrokerConfig config) {
        return config.kafka() == null ? new Journal(config) : new Cluster(config);
    }

    /** Opens the queues; {@code server} is the listener whose address other nodes reach this one at. */
    QueueStore openStore(StoreConfig storeConfig, HttpServer server) throws IOException;

    /** The users, from the store just opened. */
    UserStore users(QueueStore store) throws IOException;

    /** The sessions, from the store just opened. */
    TokenService sessions(QueueStore store, Duration ttl, Clock clock) throws IOException;

    /** The disk whose free space decides readiness: the one the broker writes most to. */
    Path disk(StoreConfig storeConfig);

    /** Runs a command-line action on the users, ending the sessions of a user it changes where that is its job. */
    void withUsers(UsersAction action) throws IOException;

    /** Something done with the users; {@code revoke} ends a changed user's sessions. */
    interface UsersAction {
        void apply(UserStore users, Revoker revoke) throws IOException;
    }

    /** Ends the sessions of a user. */
    interface Revoker {
        void sessionsOf(String user) throws IOException;
    }

    /** Queues in local journals; users in the users file; sessions in the tokens files. */
    record Journal(BrokerConfig config) implements Backend {
        @Override
        public QueueStore openStore(StoreConfig storeConfig, HttpServer server) {
            return JournalQueueStore.open(storeConfig, MessageCodec::deadLetter);
        }

        @Override
        public UserStore users(QueueStore store) throws IOException {
            return UserStore.load(config.auth().usersFile());
        }

        @Override
        public TokenService sessions(QueueStore store, Duration ttl, Clock clock) throws IOException {
            return new TokenService(config.auth().tokensFile(), ttl, clock);
        }

        @Override
        public Path disk(StoreConfig storeConfig) {
            return storeConfig.directory();
        }

        /** The users file only: a running broker sees the change on its next request and ends the sessions itself. */
        @Override
        public void withUsers(UsersAction action) throws IOException {
            action.apply(UserStore.load(config.auth().usersFile()), user -> { });
        }
    }

    /** Queues, users and sessions in a Kafka cluster, shared by every node. */
    record Cluster(BrokerConfig config) implements Backend {
        @Override
        public QueueStore openStore(StoreConfig storeConfig, HttpServer server) {
            String host = ConfigLoader.reachableHost(config.server().host());
            String url = config.kafka().advertisedUrl() != null ? config.kafka().advertisedUrl()
                    : server.servesPlain() ? "http://" + host + ":" + server.port()
                    : "https://" + host + ":" + server.tlsPort();
            return KafkaQueueStore.open(settings(url), MessageCodec::deadLetter);
        }

        @Override
        public UserStore users(QueueStore store) throws IOException {
            // The users file only seeds a cluster that has no users yet.
            return UserStore.shared(store.shared("users").orElseThrow(), config.auth().usersFile());
        }

        @Override
        public TokenService sessions(QueueStore store, Duration ttl, Clock clock) throws IOException {
            return TokenService.shared(store.shared("sessions").orElseThrow(), ttl, clock);
        }

        /** The node keeps no queue data: the disk that matters is the one its audit log is written to. */
        @Override
        public Path disk(StoreConfig storeConfig) {
            return config.audit().file().toAbsolutePath().getParent();
        }

        /** The cluster's users, which every node serves at once; the command ends a changed user's sessions itself. */
        @Override
        public void withUsers(UsersAction action) throws IOException {
            try (KafkaQueueStore store = KafkaQueueStore.open(settings(null), MessageCodec::deadLetter)) {
                TokenService sessions = sessions(store, Duration.ofSeconds(config.auth().tokenTtlSeconds()), Clock.systemUTC());
                action.apply(users(store), sessions::revokeUser);
            }
        }

        /** The Kafka store's settings; {@code advertisedUrl} null for a tool that issues no leases. */
        KafkaSettings settings(String advertisedUrl) {
            BrokerConfig.Kafka k = config.kafka();
            return new KafkaSettings(k.bootstrapServers(), k.client(), k.replicationFactor(), k.minInsyncReplicas(),
                    Duration.ofMillis(k.lockDurationMs()), k.maxPollRecords(), Duration.ofMillis(k.prefetchHoldMs()),
                    Duration.ofMillis(Math.max(k.consumerIdleMs(), config.server().maxWaitSeconds() * 1000 + 1000)),
                    k.maxDeliveryLimit(), k.nodeId(), Duration.ofSeconds(config.queues().idempotencyWindowSeconds()),
                    advertisedUrl, k.maxKeysInMemory());
        }
    }
}
