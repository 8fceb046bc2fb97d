package dev.spool.storage.journal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiConsumer;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A write of the cursor file torn at any byte (a crash or power cut mid-write) loses at most the value being
 * written: each part (cursor, write head, id reservation) reads back the previous write or the new one, never
 * an older one, even when the ids jump (out-of-order acks move the floor from 9 to 11 in one write).
 */
class CursorTornWriteTest {
    @TempDir
    Path dir;

    @Test
    void aTornCursorWriteShouldNeverReadBackOlderThanThePreviousWrite() throws IOException {
        walk("cursor", (c, id) -> c.advance(id * 10, id), c -> c.isValid() ? c.position().id() : -1);
    }

    @Test
    void aTornHeadWriteShouldNeverReadBackOlderThanThePreviousWrite() throws IOException {
        walk("head", (c, id) -> c.head(id * 10, id), c -> c.recoveredHead() == null ? -1 : c.recoveredHead().id());
    }

    @Test
    void aTornReservationWriteShouldNeverReadBackOlderThanThePreviousWrite() throws IOException {
        walk("reserve", Cursor::reserve, Cursor::recoveredReserve);
    }

    @Test
    void aCursorMovedBackShouldReadBackWhereItWasMoved() throws IOException {
        Path f = dir.resolve("back.dat");
        try (Cursor c = Cursor.create(f)) {
            c.advance(110, 11);
            c.reset(new Cursor.Position(90, 9));
        }
        try (Cursor c = Cursor.open(f)) {
            assertEquals(new Cursor.Position(90, 9), c.position(), "the newest write wins, not the highest id");
        }
    }

    /**
     * Writes 8, 9 and 11, then rebuilds the file as the write of 11 could have left it torn at every byte of
     * the slot it wrote (its first k bytes written and the rest old, or byte k garbled), and reopens each.
     */
    private void walk(String part, BiConsumer<Cursor, Long> write, Function<Cursor, Long> read) throws IOException {
        Path f = dir.resolve(part + ".dat");
        byte[] before;
        byte[] after;
        try (Cursor c = Cursor.create(f)) {
            write.accept(c, 8L);
            write.accept(c, 9L);
            before = Files.readAllBytes(f);
            write.accept(c, 11L);
            after = Files.readAllBytes(f);
        }
        int first = -1;
        for (int i = 0; i < after.length; i++) {
            if (before[i] != after[i]) {
                first = i;
                break;
            }
        }
        assertTrue(first >= 0, "the write of 11 changed the file");
        int slot = first - first % Cursor.SLOT_SIZE;
        int cases = 0;
        for (int k = 0; k <= Cursor.SLOT_SIZE; k++) {
            byte[] torn = before.clone();
            System.arraycopy(after, slot, torn, slot, k);
            cases += check(f, torn, read, part + " torn after " + k + " bytes");
            if (k < Cursor.SLOT_SIZE) {
                byte[] garbled = after.clone();
                garbled[slot + k] ^= (byte) 0x5A;
                cases += check(f, garbled, read, part + " with byte " + k + " garbled");
            }
        }
        assertEquals(2 * Cursor.SLOT_SIZE + 1, cases);
    }

    private static int check(Path f, byte[] image, Function<Cursor, Long> read, String what) throws IOException {
        Files.write(f, image);
        try (Cursor c = Cursor.open(f)) {
            long id = read.apply(c);
            assertTrue(id == 9 || id == 11, what + ": read back " + id + ", older than the previous write (9)");
        }
        return 1;
    }
}
