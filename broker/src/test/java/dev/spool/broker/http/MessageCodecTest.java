package dev.spool.broker.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MessageCodecTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static MessageCodec.Batch batch(String json, String type) {
        return MessageCodec.encodeBatch(json.getBytes(StandardCharsets.UTF_8), type, 100);
    }

    private static JsonNode rendered(byte[] stored) throws Exception {
        return JSON.readTree(MessageCodec.render(7, stored));
    }

    @Test
    void batchElementsShouldRenderLikeSinglePushes() throws Exception {
        String a = "{\"body\":{\"x\":[1,{\"y\":2}]},\"metadata\":{\"m\":\"v\"}}";
        String b = "{ \"body\" : { \"z\" : \"q\\n\\\"\" } }";
        String c = "{\"metadata\":{\"m\":1},\"body\":{\"r\":true},\"extra\":5}";
        MessageCodec.Batch batch = batch("[" + a + ",\n" + b + "," + c + "]", null);
        assertEquals(3, batch.messages().size());
        for (int i = 0; i < 3; i++) {
            String one = new String[] {a, b, c}[i];
            JsonNode viaBatch = rendered(batch.messages().get(i));
            JsonNode viaSingle = rendered(MessageCodec.encode(one.getBytes(StandardCharsets.UTF_8), null));
            assertEquals(viaSingle.get("body"), viaBatch.get("body"), one);
            assertEquals(viaSingle.get("metadata"), viaBatch.get("metadata"), one);
            assertEquals(7, viaBatch.get("id").asInt());
        }
        assertNull(batch.keys());
    }

    @Test
    void idempotencyKeysShouldBeFoundPerMessage() {
        MessageCodec.Batch b = batch("[{\"body\":{}},{\"body\":{},\"metadata\":{\"idempotency_key\":\"k\"}}]", null);
        assertEquals(Arrays.asList(null, "k"), b.keys());
    }

    @Test
    void invalidElementsShouldNameTheirIndex() {
        ApiException e = assertThrows(ApiException.class, () -> batch("[{\"body\":{}},{\"body\":3}]", null));
        assertEquals(ErrorCode.INVALID_MESSAGE, e.code());
        assertTrue(e.getMessage().startsWith("messages[1]"), e.getMessage());
        assertTrue(assertThrows(ApiException.class, () -> batch("[{\"body\":{}}, 5]", null)).getMessage()
                .startsWith("messages[1]"));
        assertTrue(assertThrows(ApiException.class, () -> batch("[{\"metadata\":{}}]", null)).getMessage()
                .startsWith("messages[0]"));
        assertEquals(ErrorCode.SCHEMA_VIOLATION,
                assertThrows(ApiException.class, () -> batch("[{\"body\":{\"result_id\":1}}]", "result")).code());
        assertEquals(ErrorCode.MALFORMED_JSON, assertThrows(ApiException.class, () -> batch("[{\"body\":{}}", null)).code());
        assertEquals(ErrorCode.MALFORMED_JSON, assertThrows(ApiException.class, () -> batch("[] []", null)).code());
        assertEquals(ErrorCode.INVALID_MESSAGE, assertThrows(ApiException.class, () -> batch("{\"body\":{}}", null)).code());
        assertEquals(ErrorCode.PAYLOAD_TOO_LARGE, assertThrows(ApiException.class,
                () -> MessageCodec.encodeBatch("[{\"body\":{}},{\"body\":{}}]".getBytes(StandardCharsets.UTF_8), null, 1)).code());
    }
}
