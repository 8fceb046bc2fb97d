package dev.spool.storage.journal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

@Timeout(10)
class IdempotencyWindowTest {

    @Test
    void aKeyShouldNameItsFirstIdWithinTheWindow() {
        IdempotencyWindow w = new IdempotencyWindow(1_000, 10);
        w.remember("k", 7, 0);
        w.remember("k", 9, 10);
        assertEquals(7, w.idOf("k", 999));
        assertEquals(-1, w.idOf("other", 0));
    }

    @Test
    void aKeyShouldBeForgottenWhenTheWindowPasses() {
        IdempotencyWindow w = new IdempotencyWindow(1_000, 10);
        w.remember("k", 7, 0);
        assertEquals(-1, w.idOf("k", 1_000), "looked up after the window, even before expire()");
        w.expire(1_000);
        assertEquals(0, w.size());
    }

    @Test
    void theOldestKeysShouldGoFirstBeyondTheCap() {
        IdempotencyWindow w = new IdempotencyWindow(1_000_000, 2);
        w.remember("a", 1, 0);
        w.remember("b", 2, 1);
        w.remember("c", 3, 2);
        w.expire(3);
        assertEquals(-1, w.idOf("a", 3));
        assertEquals(2, w.idOf("b", 3));
        assertEquals(3, w.idOf("c", 3));
    }

    @Test
    void keysOfIdsNeverStoredShouldBeForgotten() {
        IdempotencyWindow w = new IdempotencyWindow(1_000, 10);
        w.remember("a", 1, 0);
        w.remember("b", 2, 0);
        w.forgetAbove(1);
        assertEquals(-1, w.idOf("b", 0));
        assertEquals(1, w.idOf("a", 0));
    }

    @Test
    void badSizesShouldBeRefusedNamingTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new IdempotencyWindow(0, 1));
        assertEquals("windowMillis must be > 0, was 0", e.getMessage());
    }
}
