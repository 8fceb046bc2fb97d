package dev.spool.storage.kafka;

import dev.spool.storage.Blocking;
import dev.spool.storage.DeadLetterCodec;
import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.Message;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.TakeResult;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 21, found by the drill's partition: a Spool node whose answers from Kafka stall (the network stops
 * carrying them, the connection stays open) while its clients still reach it. Its consumer's fetch, sent before
 * or during the stall, acquires a message whose answer then waits in the network; the lock runs out, another node
 * leases the message (its second delivery) and acks it. When the network recovers, the stale answer arrives: the
 * node used to date the acquisition from its previous poll, hand the message to its waiting pull as freshly locked,
 * and Kafka confirmed that pull's ACCEPT, so one message was delivered twice. The node must not hand it out, both
 * with the default share-consumer request timeout (which drops an answer older than a third of the lock) and with
 * {@code kafka.client} setting a long one (then the dating alone must see that the lock may have run out).
 */
@Timeout(180)
class LateFetchAnswerTest {
    private static final DeadLetterCodec CODEC = (payload, from, id, deliveries) -> payload;
    private static final Duration LOCK = Duration.ofSeconds(5);

    @ParameterizedTest(name = "kafka.client request.timeout.ms: {0}")
    @ValueSource(strings = {"default", "30000"})
    void aStaleFetchAnswerShouldNotDeliverAMessageAgain(String requestTimeout, @TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(portsFree(KafkaCluster.PLACED_PORT, 3), "skipped: this test's Kafka node needs "
                + "ports 9092 to 9094 on 127.0.0.1, which are in use here");
        InetSocketAddress delayedListener = new InetSocketAddress("127.0.0.1", KafkaCluster.PLACED_PORT + 2);
        try (StallProxy proxy = new StallProxy(delayedListener);
             KafkaCluster kafka = KafkaCluster.start(dir, new KafkaCluster.Placement(List.of("127.0.0.1"),
                     List.of(List.of()), List.of("127.0.0.1:" + proxy.port())))) {
            // Node a's fetches wait at Kafka for up to 1.5 s for a message (within its request timeout), so that
            // one is nearly always waiting there when the message is pushed.
            Map<String, String> client = new java.util.HashMap<>(Map.of("fetch.max.wait.ms", "1500"));
            if (!requestTimeout.equals("default")) {
                client.put("request.timeout.ms", requestTimeout);
            }
            KafkaSettings viaProxy = KafkaSettings.of(kafka.delayedBootstrap(), "late-a").withLockDuration(LOCK)
                    .withReplication(1, 1).withClient(client);
            try (KafkaQueueStore a = KafkaQueueStore.open(viaProxy, CODEC);
                 KafkaQueueStore b = KafkaQueueStore.open(KafkaSettings.of(kafka.bootstrap(), "late-b")
                         .withLockDuration(LOCK).withReplication(1, 1), CODEC)) {
                String q = "late";
                a.create(q, new QueueOptions(1000, null, 5, null));
                // Node a's consumer joins its group (an empty queue answers after the wait).
                assertEquals(List.of(), taken(Blocking.join(a.take(q, 1, Duration.ofSeconds(3)))), "empty at first");
                boolean took = false;
                for (int attempt = 1; attempt <= 3 && !took; attempt++) {
                    CompletableFuture<TakeResult> pullOnA = a.take(q, 1, Duration.ofSeconds(15)).toCompletableFuture();
                    proxy.stall();
                    long id = ((dev.spool.storage.PushResult.Stored) Blocking.push(b, q, bytes("m" + attempt))).id(0);
                    // Node a's waiting fetch acquires it (its first delivery) and the answer waits in the network;
                    // once a's lock has run out, node b gets it on its second delivery and acks it.
                    LeaseResult got = Blocking.join(b.lease(q, 1, Duration.ofSeconds(10), Duration.ofSeconds(30)));
                    List<Leased> onB = ((LeaseResult.Granted) got).messages();
                    assertEquals(1, onB.size(), "node b leased the message");
                    assertEquals(1, Blocking.ack(b, q, List.of(onB.get(0).lease())).accepted());
                    // Its second delivery shows node a's fetch had acquired it first: the fault took. (The first
                    // means no fetch of node a was waiting at Kafka when it was pushed: the attempt is made again.)
                    took = onB.get(0).delivery() == 2;
                    proxy.resume();

                    List<Message> onA = taken(pullOnA.get());
                    assertTrue(onA.stream().noneMatch(m -> m.id() == id),
                            "node a's waiting pull must not deliver message " + id + " again from the stale answer: "
                                    + onA + " (attempt " + attempt + ", fault took: " + took + ")");
                }
                assertTrue(took, "in 3 attempts node a's fetch never acquired the message before node b");
                // And node a works on once its network has recovered.
                long next = ((dev.spool.storage.PushResult.Stored) Blocking.push(b, q, bytes("n"))).id(0);
                List<Message> later = taken(Blocking.join(a.take(q, 1, Duration.ofSeconds(30))));
                assertEquals(List.of(next), later.stream().map(Message::id).toList(), "node a pulls the next one");
            }
        }
    }

    private static List<Message> taken(TakeResult r) {
        return ((TakeResult.Taken) r).messages();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static boolean portsFree(int first, int n) {
        for (int p = first; p < first + n; p++) {
            try (ServerSocket s = new ServerSocket(p, 1, InetAddress.getByName("127.0.0.1"))) {
                s.setReuseAddress(true);
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }
}
