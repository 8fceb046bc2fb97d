package dev.spool.storage.journal;

import net.openhft.chronicle.bytes.Bytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(10)
class EntryCodecTest {
    private final EntryCodec codec = new EntryCodec();

    @Test
    void anEntryShouldReadBackWithItsIdAndPayload() {
        Bytes<?> b = Bytes.allocateElasticOnHeap();
        byte[] payload = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
        codec.write(b, 42, payload);
        assertEquals(EntryCodec.HEADER + payload.length, b.readRemaining());
        assertEquals(42, EntryCodec.peekId(b));
        assertTrue(codec.read(b, true));
        assertEquals(42, codec.id());
        assertTrue(codec.intact());
        assertArrayEquals(payload, codec.payload());
    }

    @Test
    void aFlippedPayloadByteShouldBeDetected() {
        Bytes<?> b = Bytes.allocateElasticOnHeap();
        codec.write(b, 1, new byte[] {1, 2, 3});
        b.writeByte(EntryCodec.HEADER + 1, (byte) 9);
        assertTrue(codec.read(b, true));
        assertEquals(1, codec.id());
        assertFalse(codec.intact());
        assertNull(codec.payload(), "a corrupt payload is never handed out");
    }

    @Test
    void bytesShorterThanAHeaderShouldNotReadAsAnEntry() {
        Bytes<?> b = Bytes.allocateElasticOnHeap();
        b.writeLong(5);
        assertEquals(-1, EntryCodec.peekId(b));
        assertFalse(codec.read(b, true));
        assertFalse(codec.intact());
    }
}
