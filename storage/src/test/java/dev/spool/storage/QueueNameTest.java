package dev.spool.storage;

import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The hand-written name check accepts exactly what {@link QueueStore#NAME_PATTERN} describes. */
class QueueNameTest {
    @Test
    void theNameCheckShouldAgreeWithTheDocumentedPattern() {
        Pattern documented = Pattern.compile(QueueStore.NAME_PATTERN);
        String alphabet = "aZ09._-/ %é\u0000:\n";
        Random random = new Random(42);
        for (int i = 0; i < 200_000; i++) {
            int length = random.nextInt(i % 10 == 0 ? 125 : 6);
            StringBuilder name = new StringBuilder();
            for (int j = 0; j < length; j++) {
                name.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            String n = name.toString();
            assertEquals(documented.matcher(n).matches(), QueueStore.isValidName(n), "'" + n + "'");
        }
        assertEquals(false, QueueStore.isValidName(null));
        assertEquals(true, QueueStore.isValidName("a".repeat(120)));
        assertEquals(false, QueueStore.isValidName("a".repeat(121)));
    }
}
