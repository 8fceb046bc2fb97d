package dev.spool.broker;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests the HTTP layer itself judges (a missing, repeated or malformed Host, an absolute-form target, CONNECT)
 * are answered with a problem like every other error, never an empty 400; a malformed one closes the connection.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
class ParserEdgeTest {
    TestBroker b;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        b = new TestBroker(dir, "", Clock.systemUTC());
    }

    @AfterAll
    void stop() {
        b.close();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "no Host              | GET /queues HTTP/1.1~~                                     | 400 | MALFORMED_REQUEST | true",
            "two Hosts            | GET /queues HTTP/1.1~Host: a~Host: b~~                     | 400 | MALFORMED_REQUEST | true",
            "a bad Host port      | GET /queues HTTP/1.1~Host: a:99999~~                       | 400 | MALFORMED_REQUEST | true",
            "absolute-form target | GET http://other.example/queues HTTP/1.1~Host: x~~         | 401 | UNAUTHORIZED      | false",
            "CONNECT              | CONNECT other.example:443 HTTP/1.1~Host: other.example:443~~ | 404 | ROUTE_NOT_FOUND | true"})
    void everyAnswerShouldBeAProblem(String what, String request, int status, String code, boolean closes)
            throws Exception {
        try (Socket s = new Socket("127.0.0.1", b.broker.port())) {
            OutputStream out = s.getOutputStream();
            out.write(request.replace("~", "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            RawAnswer r = RawAnswer.read(s.getInputStream());
            assertNotNull(r, what + ": no answer");
            assertEquals(status, r.status(), what + ": " + r.head());
            assertTrue(r.head().toLowerCase().contains("content-type: application/problem+json"), what + ": " + r.head());
            assertEquals(code, r.json().path("code").asText(), r.body());
            if (closes) {
                assertNull(RawAnswer.read(s.getInputStream()), what + ": the connection is closed after it");
            }
        }
    }
}
