package dev.spool.broker;

import dev.spool.broker.config.BrokerConfig;
import dev.spool.broker.config.ConfigException;
import dev.spool.broker.config.ConfigLoader;
import dev.spool.storage.Fsync;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigTest {
    @TempDir
    Path dir;

    private BrokerConfig load(String yaml) throws Exception {
        Path f = dir.resolve("config.yaml");
        Files.writeString(f, yaml);
        return ConfigLoader.load(f);
    }

    private String failure(String yaml) {
        return assertThrows(ConfigException.class, () -> load(yaml)).getMessage();
    }

    @Test
    void emptyFileShouldGiveTheDocumentedDefaults() throws Exception {
        BrokerConfig c = load("");
        assertEquals(dir.resolve("data/queues.json"), c.queueManager().checkpointFile());
        assertEquals(100, c.queueManager().defaultMaxLength());
        assertEquals(30, c.queueManager().savePeriodSeconds());
        assertEquals("127.0.0.1", c.server().host());
        assertEquals(7500, c.server().port());
        assertEquals(dir.resolve("users.yaml"), c.auth().usersFile());
        assertEquals(86_400, c.auth().tokenTtlSeconds());
        assertEquals(dir.resolve("message_queue.log"), c.audit().file());
        assertEquals(BrokerConfig.AuditBody.FULL, c.audit().body());
        assertEquals(1 << 20, c.server().maxMessageBytes());
        assertEquals(Fsync.NONE, c.storage().fsync());
        assertTrue(c.audit().enabled());
        assertEquals(BrokerConfig.AuditCompress.AUTO, c.audit().compress());
    }

    @Test
    void auditCompressShouldTakeTrueFalseZstdOrGzip() throws Exception {
        assertEquals(BrokerConfig.AuditCompress.AUTO, load("audit:\n  compress: true\n").audit().compress());
        assertEquals(BrokerConfig.AuditCompress.NONE, load("audit:\n  compress: false\n").audit().compress());
        assertEquals(BrokerConfig.AuditCompress.ZSTD, load("audit:\n  compress: zstd\n").audit().compress());
        assertEquals(BrokerConfig.AuditCompress.GZIP, load("audit:\n  compress: GZIP\n").audit().compress());
        String m = failure("audit:\n  compress: lz4\n");
        assertTrue(m.contains("audit.compress") && m.contains("lz4") && m.contains("zstd or gzip"), m);
    }

    @Test
    void theSeedsQueueManagerSectionShouldBeRead() throws Exception {
        BrokerConfig c = load("""
                QueueManager:
                  path: "state/q.json"
                  max_length: 7
                  save_period_time: 3
                """);
        assertEquals(dir.resolve("state/q.json"), c.queueManager().checkpointFile());
        assertEquals(7, c.queueManager().defaultMaxLength());
        assertEquals(3, c.queueManager().savePeriodSeconds());
    }

    @Test
    void eachFixedKeyShouldBeRead() throws Exception {
        BrokerConfig c = load("""
                server:
                  host: "0.0.0.0"
                  port: 8123
                auth:
                  users_file: "/etc/spool/users.yaml"
                  token_ttl_seconds: 60
                audit:
                  file: "logs/audit.log"
                  body: truncate
                storage:
                  fsync: interval
                  fsync_interval_ms: 2
                """);
        assertEquals("0.0.0.0", c.server().host());
        assertEquals(8123, c.server().port());
        assertEquals(Path.of("/etc/spool/users.yaml"), c.auth().usersFile());
        assertEquals(60, c.auth().tokenTtlSeconds());
        assertEquals(dir.resolve("logs/audit.log"), c.audit().file());
        assertEquals(BrokerConfig.AuditBody.TRUNCATE, c.audit().body());
        assertEquals(Fsync.INTERVAL, c.storage().fsync());
        assertEquals(2, c.storage().fsyncIntervalMs());
    }

    @Test
    void retentionBoundsShouldTakeUnitsAndRefuseNonsense() throws Exception {
        assertEquals(0, load("").storage().retentionMaxAgeSeconds(), "no bound by default");
        assertEquals(0, load("").storage().retentionMaxBytes());
        assertEquals(7 * 86_400, load("retention:\n  max_age: 7d\n").storage().retentionMaxAgeSeconds());
        assertEquals(12 * 3600, load("retention:\n  max_age: 12h\n").storage().retentionMaxAgeSeconds());
        assertEquals(90, load("retention:\n  max_age: 90\n").storage().retentionMaxAgeSeconds());
        assertEquals(10L << 30, load("retention:\n  max_bytes: 10GiB\n").storage().retentionMaxBytes());
        assertEquals(500_000_000L, load("retention:\n  max_bytes: 500MB\n").storage().retentionMaxBytes());
        assertEquals(4096, load("retention:\n  max_bytes: 4096\n").storage().retentionMaxBytes());
        String age = failure("retention:\n  max_age: soon\n");
        assertTrue(age.contains("retention.max_age") && age.contains("soon"), age);
        String size = failure("retention:\n  max_bytes: -1\n");
        assertTrue(size.contains("retention.max_bytes"), size);
        assertTrue(failure("retention:\n  max_size: 1\n").contains("retention.max_size"));
        String kafka = failure("storage:\n  backend: kafka\nkafka:\n  bootstrap_servers: \"localhost:9092\"\n"
                + "retention:\n  max_age: 1d\n");
        assertTrue(kafka.contains("retention.max_age") && kafka.contains("kafka"), kafka);
    }

    @Test
    void unknownKeysShouldFailNamingTheKey() {
        assertTrue(failure("server:\n  prot: 1\n").contains("server.prot"));
        assertTrue(failure("colour: red\n").contains("colour"));
    }

    @Test
    void badValuesShouldFailNamingTheKeyAndValue() {
        String m = failure("server:\n  port: 70000\n");
        assertTrue(m.contains("server.port") && m.contains("70000"), m);
        assertTrue(failure("server:\n  port: abc\n").contains("server.port"));
        assertTrue(failure("QueueManager:\n  max_length: 0\n").contains("max_length"));
        assertTrue(failure("storage:\n  fsync: sometimes\n").contains("storage.fsync"));
        assertTrue(failure("audit:\n  body: all\n").contains("audit.body"));
        assertTrue(failure("audit:\n  enabled: maybe\n").contains("audit.enabled"));
        assertTrue(failure("auth: [1, 2]\n").contains("auth"));
        assertTrue(failure("server: {port: 1\n").contains("YAML"));
        assertTrue(failure("queues:\n  max_visibility_seconds: 43201\n").contains("queues.max_visibility_seconds"));
        String longerDefault = failure("queues:\n  max_visibility_seconds: 60\n  visibility_seconds: 61\n");
        assertTrue(longerDefault.contains("queues.visibility_seconds") && longerDefault.contains("61"), longerDefault);
    }

    @Test
    void keysKafkaCannotHonourShouldBeRefusedNotIgnored() {
        String kafka = "storage:\n  backend: kafka\n%skafka:\n  bootstrap_servers: \"localhost:9092\"\n";
        String fsync = failure(kafka.formatted("  fsync: always\n"));
        assertTrue(fsync.contains("storage.fsync") && fsync.contains("kafka"), fsync);
        assertTrue(failure(kafka.formatted("  fsync_interval_ms: 5\n")).contains("storage.fsync_interval_ms"));
        String never = failure(kafka.formatted("") + "queues:\n  max_deliveries: 0\n");
        assertTrue(never.contains("queues.max_deliveries") && never.contains("2 to 25"), never);
        assertEquals(3, assertDoesNotThrow(() -> load(kafka.formatted("") + "queues:\n  max_deliveries: 3\n"))
                .queues().maxDeliveries());
    }

    @Test
    void kafkaKeysInMemoryShouldBeReadWithADefault() throws Exception {
        String kafka = "storage:\n  backend: kafka\nkafka:\n  bootstrap_servers: \"localhost:9092\"\n";
        assertEquals(1_000_000, load(kafka).kafka().maxKeysInMemory());
        assertEquals(5000, load(kafka + "  max_keys_in_memory: 5000\n").kafka().maxKeysInMemory());
        String bad = failure(kafka + "  max_keys_in_memory: lots\n");
        assertTrue(bad.contains("max_keys_in_memory"), bad);
    }

    @Test
    void theRepositorysDefaultConfigShouldLoad() {
        BrokerConfig c = ConfigLoader.load(Path.of("..", "config.yaml"));
        assertEquals(7500, c.server().port());
    }
}
