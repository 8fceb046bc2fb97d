package dev.spool.storage.kafka;

import dev.spool.storage.DeadLetterCodec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * Dead letters on Kafka: each queue's delivery limit, the node's own writes of a record at its limit to the
 * dead-letter topic (and of a dead letter near its own limit to its topic again), and a dead letter's payload as
 * the codec makes it from the headers Kafka's share-group DLQ writes (the node's writes carry the same).
 */
final class DeadLetters {
    private final Catalog catalog;
    private final KafkaProducer<byte[], byte[]> producer;
    private final KafkaSettings settings;
    private final DeadLetterCodec codec;

    DeadLetters(Catalog catalog, KafkaProducer<byte[], byte[]> producer, KafkaSettings settings, DeadLetterCodec codec) {
        this.catalog = catalog;
        this.producer = producer;
        this.settings = settings;
        this.codec = codec;
    }

    /** The queue's share group's delivery limit: its {@code max_deliveries}, or the cluster's largest. */
    int deliveryLimit(QueueEntry e) {
        return e.options().maxDeliveries() == 0 || e.deadLetter() ? settings.maxDeliveryLimit()
                : e.options().maxDeliveries();
    }

    /**
     * Writes a record at its delivery limit to its queue's dead-letter topic, with the headers Kafka's own
     * dead-lettering writes (so it reads the same), or a dead letter to its own topic again with its headers;
     * completes when Kafka holds it ({@code acks=all}).
     */
    CompletableFuture<Void> move(QueueEntry e, ConsumerRecord<byte[], byte[]> r) {
        String target;
        org.apache.kafka.common.header.internals.RecordHeaders headers =
                new org.apache.kafka.common.header.internals.RecordHeaders(r.headers().toArray());
        if (e.deadLetter()) {
            target = e.topic();
        } else {
            QueueEntry dlq = catalog.ready(e.options().deadLetterQueueFor(e.name()));
            if (dlq == null) {
                return CompletableFuture.failedFuture(new IllegalStateException("its dead-letter queue is gone"));
            }
            target = dlq.topic();
            String dc = Integer.toString(r.deliveryCount().map(Short::intValue).orElse(deliveryLimit(e)));
            for (String[] h : new String[][] {{"topic", r.topic()}, {"partition", Integer.toString(r.partition())},
                    {"offset", Long.toString(r.offset())}, {"group", e.group()}, {"delivery.count", dc},
                    {"message", "delivery limit reached; written by Spool node " + settings.nodeId()}}) {
                headers.remove("__dlq.errors." + h[0]);
                headers.add("__dlq.errors." + h[0], h[1].getBytes(StandardCharsets.UTF_8));
            }
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        producer.send(new ProducerRecord<>(target, null, r.key(), r.value(), headers), (md, ex) -> {
            if (ex == null) {
                done.complete(null);
            } else {
                done.completeExceptionally(ex);
            }
        });
        return done;
    }

    /** A dead letter's payload is rewritten by the codec from the broker's DLQ headers. */
    byte[] payload(QueueEntry e, ConsumerRecord<byte[], byte[]> r) {
        if (!e.deadLetter()) {
            return r.value();
        }
        String fromTopic = header(r, "__dlq.errors.topic");
        if (fromTopic == null) {
            return r.value();
        }
        QueueEntry from = catalog.byTopic(fromTopic);
        long offset = parse(header(r, "__dlq.errors.offset"), -1);
        int deliveries = (int) parse(header(r, "__dlq.errors.delivery.count"), 0);
        return codec.deadLetter(r.value(), from != null ? from.name() : fromTopic, offset + 1, deliveries);
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String key) {
        Header h = r.headers().lastHeader(key);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    static long parse(String s, long dflt) {
        try {
            return s == null ? dflt : Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return dflt;
        }
    }
}
