package dev.spool.storage;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/** The port's calls, waited for, with the shapes the storage tests assert on. */
public final class Blocking {
    private Blocking() {
    }

    public static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : e;
        }
    }

    public static PushResult push(QueueStore s, String q, byte[] payload) {
        return join(s.append(q, List.of(payload), null));
    }

    public static PushResult pushBatch(QueueStore s, String q, List<byte[]> payloads) {
        return join(s.append(q, payloads, null));
    }

    public static PushResult pushBatch(QueueStore s, String q, List<byte[]> payloads, List<String> keys) {
        return join(s.append(q, payloads, keys));
    }

    public static PullResult pull(QueueStore s, String q) {
        TakeResult r = join(s.take(q, 1));
        if (r instanceof TakeResult.Taken t) {
            return t.messages().isEmpty() ? new PullResult.Empty()
                    : new PullResult.Message(t.messages().get(0).id(), t.messages().get(0).payload());
        }
        return new PullResult.NoSuchQueue();
    }

    public static TakeResult pullBatch(QueueStore s, String q, int max) {
        return join(s.take(q, max));
    }

    public static LeaseResult lease(QueueStore s, String q, int max, Duration visibility) {
        return join(s.lease(q, max, visibility));
    }

    public static SettleResult.Settled ack(QueueStore s, String q, List<String> leases) {
        return (SettleResult.Settled) join(s.settle(q, Settlement.ACK, leases, Duration.ZERO));
    }

    public static SettleResult.Settled nack(QueueStore s, String q, List<String> leases, Duration delay) {
        return (SettleResult.Settled) join(s.settle(q, Settlement.NACK, leases, delay));
    }

    public static SettleResult.Settled renew(QueueStore s, String q, List<String> leases, Duration visibility) {
        return (SettleResult.Settled) join(s.settle(q, Settlement.RENEW, leases, visibility));
    }

    public static long redrive(QueueStore s, String q) {
        return s.redrive(q) instanceof RedriveResult.Moved m ? m.count() : -1;
    }

    public static Optional<QueueStats> stats(QueueStore s, String q) {
        return s.stats(q) instanceof QueueStats st ? Optional.of(st) : Optional.empty();
    }

    public static boolean delete(QueueStore s, String q) {
        return s.delete(q) instanceof DeleteResult.Deleted;
    }
}
