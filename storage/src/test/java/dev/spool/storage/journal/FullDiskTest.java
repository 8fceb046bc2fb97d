package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.Message;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.SmallFileSystem;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreException;
import dev.spool.storage.StoreTestSupport;
import dev.spool.storage.TakeResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Defect 11 on a real small file system: concurrent pushes fill it, are refused as disk full (never an
 * error of another kind, never a fault in a mapped page), pulls and deletes go on, space is freed, pushes
 * resume by themselves, and after a restart every acknowledged message is there exactly once, in order.
 */
@Timeout(120)
class FullDiskTest {
    private static final long FS_BYTES = 48L << 20;
    private static final long FLOOR = 6L << 20;
    private static final int PAYLOAD = 2048;

    @TempDir
    Path dir;

    private static byte[] payload(String tag) {
        byte[] b = new byte[PAYLOAD];
        byte[] t = tag.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(t, 0, b, 0, t.length);
        return b;
    }

    private static String tag(byte[] payload) {
        int end = 0;
        while (end < payload.length && payload[end] != 0) {
            end++;
        }
        return new String(payload, 0, end, StandardCharsets.US_ASCII);
    }

    /** Pushes batches of 20 from 4 threads until each was refused as disk full 3 times; records every ack. */
    private static int fill(JournalQueueStore s, Map<Long, String> acked, String round) throws Exception {
        AtomicInteger refusals = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                workers.add(pool.submit(() -> {
                    int refused = 0;
                    for (int seq = 0; refused < 3 && seq < 100_000; seq++) {
                        List<byte[]> batch = new ArrayList<>();
                        List<String> tags = new ArrayList<>();
                        for (int i = 0; i < 20; i++) {
                            String tag = round + "-" + thread + "-" + seq + "-" + i;
                            tags.add(tag);
                            batch.add(payload(tag));
                        }
                        try {
                            PushResult.Stored r = (PushResult.Stored) Blocking.pushBatch(s, "q", batch);
                            for (int i = 0; i < tags.size(); i++) {
                                acked.put(r.id(i), tags.get(i));
                            }
                        } catch (StoreException e) {
                            assertEquals(StoreException.Code.DISK_FULL, e.code(), e.toString());
                            refused++;
                            refusals.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> w : workers) {
                w.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return refusals.get();
    }

    @Test
    void aFullDiskShouldRefusePushesKeepServingAndLoseNothing() throws Exception {
        try (SmallFileSystem fs = SmallFileSystem.mount(dir, "fs", FS_BYTES)) {
            Path filler = fs.path().resolve("filler");
            try (RandomAccessFile f = new RandomAccessFile(filler.toFile(), "rw")) {
                f.write(new byte[12 << 20]); // space to free later
            }
            StoreConfig c = StoreTestSupport.config(fs.path().resolve("data")).withMinFreeBytes(FLOOR);
            Map<Long, String> acked = new ConcurrentSkipListMap<>();
            Map<Long, String> taken = new ConcurrentHashMap<>();
            try (JournalQueueStore s = JournalQueueStore.open(c)) {
                s.create("q", QueueOptions.ofMaxLength(Long.MAX_VALUE));
                s.create("other", QueueOptions.ofMaxLength(10));
                Blocking.push(s, "other", payload("other"));

                assertTrue(fill(s, acked, "a") > 0);
                assertTrue(fs.usable() > 0, "the floor kept room: " + fs.usable());

                // Full: pulls and deletes still work.
                for (Message m : ((TakeResult.Taken) Blocking.pullBatch(s, "q", 5)).messages()) {
                    taken.put(m.id(), tag(m.payload()));
                }
                assertEquals(5, taken.size());
                assertTrue(Blocking.delete(s, "other"));

                // Space returns: pushes resume by themselves, no restart.
                Files.delete(filler);
                long deadline = System.nanoTime() + 10_000_000_000L;
                PushResult resumed = null;
                while (resumed == null && System.nanoTime() < deadline) {
                    try {
                        resumed = Blocking.push(s, "q", payload("resumed"));
                    } catch (StoreException e) {
                        assertEquals(StoreException.Code.DISK_FULL, e.code());
                        Thread.onSpinWait();
                    }
                }
                assertInstanceOf(PushResult.Stored.class, resumed, "pushes resume once space is freed");
                acked.put(((PushResult.Stored) resumed).firstId(), "resumed");
                assertTrue(fill(s, acked, "b") > 0, "and are refused again at the floor");
            }
            try (JournalQueueStore s = JournalQueueStore.open(c)) {
                long previous = 0;
                int seen = 0;
                while (true) {
                    List<Message> batch = ((TakeResult.Taken) Blocking.pullBatch(s, "q", 500)).messages();
                    if (batch.isEmpty()) {
                        break;
                    }
                    for (Message m : batch) {
                        assertTrue(m.id() > previous, "in order: " + m.id() + " after " + previous);
                        previous = m.id();
                        assertEquals(acked.get(m.id()), tag(m.payload()), "id " + m.id() + " holds its own message");
                        seen++;
                    }
                }
                assertEquals(acked.size() - taken.size(), seen, "every acknowledged message exactly once");
                for (Map.Entry<Long, String> t : taken.entrySet()) {
                    assertEquals(acked.get(t.getKey()), t.getValue());
                }
            }
        }
    }
}
