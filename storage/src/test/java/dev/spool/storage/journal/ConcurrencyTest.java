package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.Message;
import dev.spool.storage.NoSuchQueue;
import dev.spool.storage.PullResult;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.spool.storage.StoreTestSupport.bytes;
import static dev.spool.storage.StoreTestSupport.config;
import static dev.spool.storage.StoreTestSupport.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConcurrencyTest {
    @TempDir
    Path dir;

    record Got(long id, int producer, int seq) {
    }

    @Test
    @Timeout(120)
    void eightPushersAndFourPullersShouldDeliverEveryMessageOnceInPerProducerOrder() throws Exception {
        int producers = 8;
        int perProducer = 5_000;
        int total = producers * perProducer;
        try (JournalQueueStore s = JournalQueueStore.open(config(dir))) {
            s.create("q", QueueOptions.ofMaxLength(total));
            ExecutorService pool = Executors.newFixedThreadPool(producers + 4);
            CountDownLatch start = new CountDownLatch(1);
            ConcurrentLinkedQueue<Got> got = new ConcurrentLinkedQueue<>();
            AtomicInteger received = new AtomicInteger();
            List<Future<?>> futures = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                int producer = p;
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < perProducer; i++) {
                        assertInstanceOf(PushResult.Stored.class, Blocking.push(s, "q", bytes(producer + ":" + i)));
                    }
                    return null;
                }));
            }
            for (int c = 0; c < 4; c++) {
                futures.add(pool.submit(() -> {
                    start.await();
                    while (received.get() < total) {
                        if (Blocking.pull(s, "q") instanceof PullResult.Message m) {
                            String[] parts = new String(m.payload(), StandardCharsets.UTF_8).split(":");
                            got.add(new Got(m.id(), Integer.parseInt(parts[0]), Integer.parseInt(parts[1])));
                            received.incrementAndGet();
                        } else {
                            Thread.onSpinWait();
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(100, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertEquals(total, got.size());
            List<Got> byId = new ArrayList<>(got);
            byId.sort((a, b) -> Long.compare(a.id(), b.id()));
            Map<Integer, Integer> nextSeq = new HashMap<>();
            for (int i = 0; i < byId.size(); i++) {
                Got g = byId.get(i);
                assertEquals(i + 1, g.id(), "ids are consecutive and each delivered once");
                int expected = nextSeq.getOrDefault(g.producer(), 0);
                assertEquals(expected, g.seq(), "producer " + g.producer() + " order");
                nextSeq.put(g.producer(), expected + 1);
            }
            for (int p = 0; p < producers; p++) {
                assertEquals(perProducer, nextSeq.get(p));
            }
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "q"));
        }
    }

    @Test
    @Timeout(120)
    void deletionRacingWithPushesAndPullsShouldNotHarmOtherQueues() throws Exception {
        try (JournalQueueStore s = JournalQueueStore.open(config(dir))) {
            s.create("victim", QueueOptions.ofMaxLength(1_000_000));
            s.create("bystander", QueueOptions.ofMaxLength(1_000_000));
            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                futures.add(pool.submit(() -> {
                    while (!stop.get()) {
                        PushResult r = Blocking.push(s, "victim", bytes("v"));
                        assertTrue(r instanceof PushResult.Stored || r instanceof NoSuchQueue, r.toString());
                        PullResult p = Blocking.pull(s, "victim");
                        assertTrue(!(p instanceof PullResult.Message m) || text(m).equals("v"), p.toString());
                    }
                    return null;
                }));
            }
            futures.add(pool.submit(() -> {
                for (int i = 0; i < 50; i++) {
                    Blocking.delete(s, "victim");
                    s.create("victim", QueueOptions.ofMaxLength(1_000_000));
                }
                stop.set(true);
                return null;
            }));
            int n = 0;
            // Bounded well under the max length: a full queue would refuse pushes (correctly) and spoil the count.
            while ((!stop.get() || n < 100) && n < 200_000) {
                PushResult r = Blocking.push(s, "bystander", bytes("b" + n));
                assertEquals(n + 1, ((PushResult.Stored) r).firstId(), "bystander ids are consecutive");
                n++;
            }
            for (Future<?> f : futures) {
                f.get(100, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertEquals(n, Blocking.stats(s, "bystander").orElseThrow().depth());
            for (int i = 0; i < n; i++) {
                PullResult p = Blocking.pull(s, "bystander");
                assertTrue(p instanceof PullResult.Message, "message " + i + " of " + n + ": " + p + " "
                        + Blocking.stats(s, "bystander").orElseThrow());
                assertEquals("b" + i, text(p));
            }
            assertInstanceOf(PullResult.Empty.class, Blocking.pull(s, "bystander"));
        }
        try (JournalQueueStore s = JournalQueueStore.open(config(dir))) {
            assertEquals(List.of("bystander", "victim"), s.list());
        }
    }
}
