package dev.spool.storage.journal;

import dev.spool.storage.DeadLetterCodec;
import dev.spool.storage.Leased;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.RedriveResult;
import dev.spool.storage.Settlement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Moving messages between a queue and its dead-letter queue: dead letters out (on the store's thread, as a
 * queue's reader hands them over) and a redrive back. Either way the copy is made before the original is
 * acknowledged, so a crash in between leaves a message in both queues (at least once), never in neither.
 */
final class DeadLetters {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetters.class);
    /** Dead letters moved back per round of a redrive. */
    private static final int REDRIVE_BATCH = 256;

    private final JournalQueueStore store;
    private final DeadLetterCodec codec;
    /** Moves not finished yet: completed at close, so no answer waits for a move that never runs. */
    private final Set<CompletableFuture<Void>> pending = ConcurrentHashMap.newKeySet();

    DeadLetters(JournalQueueStore store, DeadLetterCodec codec) {
        this.store = store;
        this.codec = codec;
    }

    /** Hands a queue's waiting dead letters to the store's thread; calls that consumed from it wait for the move. */
    void schedule(Reader from) {
        Queue q = from.owner();
        OpenQueue o = store.opened(q.name);
        CompletableFuture<Void> moved = new CompletableFuture<>();
        pending.add(moved);
        moved.whenComplete((v, t) -> pending.remove(moved));
        if (o != null && o.queue() == q) {
            o.moves = o.moves.thenCombine(moved, (a, b) -> null);
        }
        if (!store.onStoreThread(() -> move(from, moved), 0)) {
            moved.complete(null); // closing: the messages stay here and are dead-lettered after the restart
        }
    }

    /**
     * Appends a queue's pending dead letters to its dead-letter queue (creating it), then marks them done in the
     * queue once the copy is as durable as the policy promises. Runs on the store's thread.
     */
    private void move(Reader reader, CompletableFuture<Void> moved) {
        Queue from = reader.owner();
        List<Queue.DeadLetter> letters = reader.takeDeadLetters();
        if (letters.isEmpty()) {
            moved.complete(null);
            return;
        }
        String dlqName = deadLetterQueue(reader);
        List<byte[]> payloads = new ArrayList<>(letters.size());
        for (Queue.DeadLetter d : letters) {
            payloads.add(codec.deadLetter(d.payload(), from.name, d.id(), d.deliveries()));
        }
        CompletionStage<PushResult> appended;
        try {
            if (store.opened(dlqName) == null && !store.isClosed()) {
                store.create(dlqName, QueueOptions.ofMaxLength(Long.MAX_VALUE));
            }
            appended = store.append(dlqName, payloads, null);
        } catch (RuntimeException e) {
            appended = CompletableFuture.failedFuture(e);
        }
        appended.whenComplete((r, t) -> {
            try {
                boolean stored = t == null && r instanceof PushResult.Stored;
                if (stored) {
                    Faults.at(Faults.Point.DEAD_LETTER_MOVE);
                } else {
                    LOG.error("queue '{}': moving {} messages to the dead-letter queue '{}' failed ({}); they stay here",
                            from.name, letters.size(), dlqName, t != null ? t.toString() : r);
                }
                for (Queue.DeadLetter d : letters) {
                    reader.deadLettered(d.id(), stored);
                }
            } finally {
                moved.complete(null);
            }
        });
    }

    /** Where a reader's dead letters go: the queue's dead-letter queue, or its subscription's. */
    static String deadLetterQueue(Reader r) {
        Queue q = r.owner();
        if (r.subscription() == null) {
            return q.meta.options().deadLetterQueueFor(q.name);
        }
        Queue.Named n = q.subscription(r.subscription());
        return n != null ? n.meta.deadLetterQueue()
                : dev.spool.storage.SubscriptionSpec.defaultDeadLetterQueue(q.name, r.subscription());
    }

    /**
     * Moves every message of {@code dlq} back to reader {@code to} of {@code target} alone (the queue's own reader, or
     * a subscription's), as new messages, oldest first: leased, appended for that reader only ({@link
     * Queue#appendFor}: the others received them already), then acknowledged; for the queue's own reader as far as its
     * max length allows. A subscription's redrive runs under the store's administration lock: the subscription is not
     * deleted, nor another created, meanwhile.
     */
    RedriveResult redrive(OpenQueue target, Reader to, OpenQueue dlq) {
        long moved = 0;
        while (true) {
            List<Leased> batch = dlq.queue().reader().lease(REDRIVE_BATCH, Duration.ofMinutes(1).toMillis());
            if (batch == null || batch.isEmpty()) {
                return new RedriveResult.Moved(moved);
            }
            List<byte[]> payloads = new ArrayList<>();
            List<String> tokens = new ArrayList<>();
            for (Leased l : batch) {
                payloads.add(l.payload());
                tokens.add(l.lease());
            }
            if (join(store.appendFor(target, to, payloads)) instanceof PushResult.Stored) {
                join(store.settle(dlq.queue().name, Settlement.ACK, tokens, Duration.ZERO));
                target.queue().journal().redriven(payloads.size());
                moved += payloads.size();
            } else {
                dlq.queue().reader().settle(Settlement.NACK, tokens, 0);
                return new RedriveResult.Moved(moved);
            }
        }
    }

    private static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : e;
        }
    }

    /** Completes every move not finished (the store is closing). */
    void abandon() {
        pending.forEach(f -> f.complete(null));
    }
}
