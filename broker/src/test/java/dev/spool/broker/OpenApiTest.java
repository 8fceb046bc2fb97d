package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 11, OpenAPI: the document covers exactly the route table, is served, and the contract check can fail. */
@Timeout(60)
class OpenApiTest {
    @TempDir
    Path dir;

    @Test
    void theDocumentShouldListExactlyTheRoutesTheBrokerServes() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            Set<String> served = new TreeSet<>(b.broker.routes());
            Set<String> documented = new TreeSet<>();
            JsonNode paths = OpenApiContract.DOCUMENT.document().get("paths");
            for (Iterator<String> it = paths.fieldNames(); it.hasNext(); ) {
                String path = it.next();
                for (Iterator<String> m = paths.get(path).fieldNames(); m.hasNext(); ) {
                    String method = m.next();
                    if (!method.equals("parameters")) {
                        documented.add(method.toUpperCase() + " " + path);
                        assertTrue(paths.get(path).get(method).has("x-roles"), method + " " + path + " names its roles");
                    }
                }
            }
            assertEquals(served, documented);
        }
    }

    @Test
    void theBrokerShouldServeItsDocument() throws Exception {
        try (TestBroker b = new TestBroker(dir)) {
            HttpResponse<String> r = b.send("GET", "/openapi.yaml", null, null);
            assertEquals(200, r.statusCode());
            assertEquals("application/yaml", r.headers().firstValue("Content-Type").orElse(""));
            Map<?, ?> doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(r.body());
            assertEquals("3.1.0", doc.get("openapi"));
        }
    }

    @Test
    void anAnswerTheDocumentDoesNotDescribeShouldFailTheCheck() {
        OpenApiContract c = OpenApiContract.DOCUMENT;
        String stats = "{\"name\":\"q\",\"depth\":0,\"max_length\":100,\"type\":null,\"created_at\":\"2026-11-30T00:00:00Z\","
                + "\"total_pushed\":0,\"total_pulled\":0,\"bytes_on_disk\":1,\"in_flight\":0,\"damaged_copies\":0,"
                + "\"writable\":true,\"failure\":null,"
                + "\"waiting_requests\":0,\"backend\":\"chronicle\",\"guarantees\":{\"exact_max_length\":true,"
                + "\"exact_fifo\":true,\"consecutive_ids\":true,\"exact_delivery_count\":true,"
                + "\"max_visibility_seconds\":43200,\"delayed_nack\":true,\"renew\":true,\"idempotency_scope\":\"store\"}}";
        c.check("GET", "/queues/q", 200, "application/json", stats);
        assertThrows(AssertionError.class, () -> c.check("GET", "/queues/q", 200, "application/json",
                stats.replace("\"waiting_requests\":0,", "\"waiting_requests\":0,\"surprise\":1,")), "an undocumented field");
        assertThrows(AssertionError.class, () -> c.check("GET", "/queues/q", 200, "application/json",
                stats.replace("\"depth\":0,", "")), "a missing field");
        assertThrows(AssertionError.class, () -> c.check("GET", "/queues/q", 418, "application/json", "{}"),
                "an undocumented status");
        assertThrows(AssertionError.class, () -> c.check("POST", "/queues/q/messages", 400, "application/problem+json",
                "{\"type\":\"x\",\"title\":\"x\",\"status\":400,\"detail\":\"x\",\"code\":\"NO_SUCH_CODE\"}"),
                "an undocumented error code");
    }
}
