package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreTestSupport;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static dev.spool.storage.StoreTestSupport.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A data folder written by the first release (state log without magic, leases.json) opens with its state. */
@Timeout(30)
class LegacyStateLogTest {
    @TempDir
    Path dir;

    private static void v1Entry(ExcerptAppender a, int kind, long id, int delivery, long time, String key) {
        try (DocumentContext dc = a.writingDocument()) {
            Bytes<?> b = dc.wire().bytes();
            byte[] k = key == null ? new byte[0] : key.getBytes(StandardCharsets.UTF_8);
            b.writeByte((byte) kind);
            b.writeLong(id);
            b.writeInt(delivery);
            b.writeLong(time);
            b.writeShort((short) k.length);
            b.write(k);
        }
    }

    @Test
    void aFirstFormatStateLogShouldBeUpgradedKeepingAcksCountsAndKeys() throws Exception {
        StoreConfig c = StoreTestSupport.config(dir);
        long now = c.clock().millis();
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            s.create("q", QueueOptions.ofMaxLength(10));
            for (String m : List.of("a", "b", "c", "d")) {
                Blocking.push(s, "q", bytes(m));
            }
        }
        Path q = dir.resolve("queues/q");
        FileTrees.delete(q.resolve(StateLog.DIR));
        try (ChronicleFolder old = ChronicleFolder.open(q.resolve(StateLog.DIR), c.rollCycle(), c.clock(),
                new Quarantine(q, c.clock()));
             ExcerptAppender a = old.appender()) {
            v1Entry(a, 2, 1, 1, 0, null);       // message 1 leased once
            v1Entry(a, 1, 2, 0, 0, null);       // message 2 acknowledged out of order
            v1Entry(a, 3, 3, 0, now, "key-3");  // message 3 pushed with a key
        }
        Files.writeString(q.resolve(LegacyStateLog.SNAPSHOT_FILE),
                "{\"version\":1,\"state_index\":-1,\"floor\":0,\"done\":[4],\"deliveries\":{},\"keys\":{}}");

        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            assertEquals(2, Blocking.stats(s, "q").orElseThrow().depth(), "2 and 4 stay acknowledged");
            PushResult.Stored dup = (PushResult.Stored) Blocking.pushBatch(s, "q", List.of(bytes("c again")),
                    List.of("key-3"));
            assertEquals(3, dup.id(0), "the key survived the upgrade");
            List<Leased> l = ((LeaseResult.Granted) Blocking.lease(s, "q", 10, Duration.ofMinutes(1))).messages();
            assertEquals(List.of(1L, 3L), l.stream().map(Leased::id).toList());
            assertEquals(2, l.get(0).delivery(), "the delivery count survived the upgrade");
        }
        assertFalse(Files.exists(q.resolve(LegacyStateLog.SNAPSHOT_FILE)));
        try (JournalQueueStore s = JournalQueueStore.open(c)) {
            assertEquals(2, Blocking.stats(s, "q").orElseThrow().depth());
        }
        assertTrue(Files.isDirectory(q.resolve(StateLog.DIR)));
    }
}
