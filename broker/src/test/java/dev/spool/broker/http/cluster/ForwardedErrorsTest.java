package dev.spool.broker.http.cluster;

import dev.spool.broker.http.ProblemsProbe;
import dev.spool.storage.Settlement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 20: a forwarded settle the owner node does not confirm is answered without the owner's address or words
 * (they go to the log), and an engine failure carrying Kafka's text is answered without it.
 */
@Timeout(30)
class ForwardedErrorsTest {
    @Test
    void anUnconfirmedForwardShouldNotNameThePeerOrRepeatItsWords() throws Exception {
        try (ServerSocket peer = new ServerSocket(0)) {
            Thread answer = new Thread(() -> {
                try (Socket s = peer.accept()) {
                    s.getInputStream().read(new byte[8192]);
                    OutputStream out = s.getOutputStream();
                    byte[] body = "internal peer detail: kafka-7.internal:9092 NOT_LEADER".getBytes(StandardCharsets.UTF_8);
                    out.write(("HTTP/1.1 500 Internal\r\nContent-Length: " + body.length + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(body);
                } catch (Exception e) {
                    // the test fails on the answer instead
                }
            });
            answer.start();
            String url = "http://127.0.0.1:" + peer.getLocalPort();
            CompletionException failed = assertThrows(CompletionException.class, () -> new LeaseForwarder(null)
                    .forward(url, "jobs", Settlement.ACK, "acked", dev.spool.broker.http.Json.MAPPER.createObjectNode(),
                            List.of("lease-1"), "Bearer x").join());
            String detail = ProblemsProbe.detail(failed.getCause());
            assertTrue(detail.contains("did not confirm"), detail);
            assertFalse(detail.contains("127.0.0.1") || detail.contains(String.valueOf(peer.getLocalPort())), detail);
            assertFalse(detail.contains("kafka-7") || detail.contains("NOT_LEADER"), detail);
            answer.join();
        }
    }

    @Test
    void anAcknowledgementKafkaDidNotConfirmShouldBeAnsweredAsAnUnknownOutcomeOfAPull() {
        // The drill tells a pull that may have taken its message from a plain failure by this answer; a CI run
        // counted such a pull's message as lost when the answer spoke only of pushes.
        dev.spool.storage.StoreException e = new dev.spool.storage.StoreException(
                dev.spool.storage.StoreException.Code.UNCONFIRMED, "Kafka did not confirm: kafka-7.internal:9092 "
                + "UnknownServerException", new RuntimeException("kafka-7.internal:9092"));
        String detail = ProblemsProbe.detail(e);
        assertEquals("OUTCOME_UNKNOWN", ProblemsProbe.code(e));
        assertEquals(503, ProblemsProbe.status(e));
        assertTrue(detail.contains("a pull may have taken its messages"), detail);
        assertFalse(detail.contains("kafka-7") || detail.contains("UnknownServer"), detail);
    }
}
