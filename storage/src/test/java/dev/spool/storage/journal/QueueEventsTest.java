package dev.spool.storage.journal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** A queue tells its store of events after its locks are released, as {@link Queue.Events} promises. */
@Timeout(120)
class QueueEventsTest {
    @TempDir
    Path dir;

    @Test
    void theIdReservationShouldBeAskedForWithNoLockHeld() throws Exception {
        StoreConfig config = StoreTestSupport.config(dir);
        Path qdir = dir.resolve("q");
        QueueMeta meta = new QueueMeta("q", QueueOptions.ofMaxLength(Long.MAX_VALUE), Instant.now());
        Queue.createFiles(qdir, meta, new ObjectMapper());
        AtomicInteger extendedInline = new AtomicInteger();
        Queue.Events events = new Queue.Events() {
            @Override
            public void available(Reader r, int count) {
            }

            @Override
            public void deadLetters(Reader r) {
            }

            @Override
            public void deadline(Reader r, long atMillis) {
            }

            @Override
            public void reserveIds(Queue q) {
                // A store may run the extension on another thread and wait for it: with the push lock held by the
                // caller, that thread could never take it.
                CompletableFuture<Void> other = CompletableFuture.runAsync(q.journal()::extendReservation);
                try {
                    other.get(10, TimeUnit.SECONDS);
                    extendedInline.incrementAndGet();
                } catch (Exception e) {
                    throw new AssertionError("the reservation could not be extended: a lock was held", e);
                }
            }
        };
        DiskSpace space = new DiskSpace(dir, 0);
        try (Queue q = Recovery.open(qdir, meta, config, null, events, space)) {
            List<byte[]> batch = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) {
                batch.add(new byte[]{1});
            }
            // Half a block of ids used: the queue asks for the next block.
            for (long pushed = 0; pushed <= Journal.ID_BLOCK / 2; pushed += batch.size()) {
                assertInstanceOf(Journal.Stored.class, q.append(batch, null));
            }
            assertEquals(1, extendedInline.get());
        }
    }
}
