package dev.spool.benchmarks.load;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

@Timeout(10)
class DeliveriesTest {
    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void scanShouldReadTheIdOfEveryMessageOfAPullAnswer() {
        Deliveries d = Deliveries.scan(utf8("[{\"id\":7,\"body\":{\"id\":99,\"x\":[1,{\"id\":5}]},\"metadata\":{}},"
                + "{\"id\":8,\"body\":\"a \\\"quoted\\\" {id\",\"metadata\":null}]"), false);
        assertArrayEquals(new long[] {7, 8}, d.ids());
        assertEquals(List.of(), d.leases());
    }

    @Test
    void scanShouldReadIdsAndLeaseTokensOfALeaseAnswerWhateverTheFieldOrder() {
        Deliveries d = Deliveries.scan(utf8("[ {\"id\": 12, \"lease\": \"a.b-c\", \"delivery\":1, \"body\":{\"lease\":\"no\"}},\n"
                + "{\"delivery\":2,\"body\":{},\"lease\":\"x\\\\y\",\"id\":13} ]"), true);
        assertArrayEquals(new long[] {12, 13}, d.ids());
        assertEquals(List.of("a.b-c", "x\\\\y"), d.leases());
    }

    @Test
    void scanShouldReturnNothingForAnEmptyAnswer() {
        assertEquals(0, Deliveries.scan(utf8("[]"), true).size());
    }

    @Test
    void scanShouldRefuseAnswersItCannotAccountFor() {
        assertThrows(IllegalStateException.class, () -> Deliveries.scan(utf8("null"), false));
        assertThrows(IllegalStateException.class, () -> Deliveries.scan(utf8("[{\"body\":{\"id\":1}}]"), false));
        assertThrows(IllegalStateException.class, () -> Deliveries.scan(utf8("[{\"id\":1,\"body\":{}}]"), true));
    }
}
