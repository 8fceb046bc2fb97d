package dev.spool.storage.journal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

@Timeout(10)
class NoncesTest {
    @Test
    void nonceShouldNotRepeatAcrossManyRefills() {
        Nonces n = new Nonces(new SecureRandom());
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 100_000; i++) {
            seen.add(n.getAsLong());
        }
        assertEquals(100_000, seen.size(), "64-bit random nonces: a repeat in 100,000 would be a bug");
    }
}
