package dev.spool.broker.http;

import dev.spool.storage.StoreException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Issue 20: an engine failure carrying Kafka's own text is answered with what the client may assume, not the text. */
class EngineErrorsTest {
    @Test
    void kafkasErrorTextShouldStayInTheLog() {
        StoreException s = new StoreException(StoreException.Code.UNAVAILABLE,
                "send to topic spool.q.jobs failed: NOT_LEADER_OR_FOLLOWER from kafka-3.internal:9092",
                new RuntimeException("org.apache.kafka.common.errors.TimeoutException: Expiring 1 record(s)"));
        ApiException answer = Problems.classify(s);
        assertEquals(ErrorCode.UNAVAILABLE, answer.code());
        for (String secret : new String[]{"kafka-3", "NOT_LEADER", "TimeoutException", "spool.q.jobs", "9092"}) {
            assertFalse(answer.getMessage().contains(secret), answer.getMessage());
        }
    }
}
