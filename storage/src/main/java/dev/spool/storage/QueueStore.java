package dev.spool.storage;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The storage port: named FIFO queues of opaque messages.
 *
 * <p>Thread safety: every method may be called from any thread. Pushes to one queue may run
 * concurrently with each other and with pulls; pulls on one queue are serialised by that queue's own
 * lock. No lock is shared between queues.
 *
 * <p>Durability when a call returns (with the default {@link Fsync#NONE} policy, against a crash of the
 * process, for example {@code kill -9}; with {@link Fsync#INTERVAL} or {@link Fsync#ALWAYS} also
 * against power loss, see {@link Durability}):
 * <ul>
 *   <li>{@link #push} or {@link #pushBatch} returning {@link PushResult.Stored}: the messages are in
 *       the journal and will be pulled exactly once.</li>
 *   <li>{@link #pull} returning {@link PullResult.Message}: the cursor has moved past it; it will never be
 *       returned again.</li>
 *   <li>{@link #create} returning {@link CreateResult#CREATED} and {@link #delete} returning
 *       {@code true}: the change is on disk and not undone by a crash.</li>
 * </ul>
 *
 * <p>Expected outcomes (queue full, missing, empty, already existing) are values. Failures of the
 * file system are thrown as {@link StoreException} with a classified {@link StoreException.Code}.
 */
public interface QueueStore extends AutoCloseable {

    /** The queue names a store accepts (120 characters at most, so a suffix such as {@code .dlq} fits). */
    String NAME_PATTERN = "[A-Za-z0-9][A-Za-z0-9._-]{0,119}";

    /** Whether {@code name} is a valid queue name; invalid names are refused with IllegalArgumentException. */
    static boolean isValidName(String name) {
        return name != null && NamePattern.COMPILED.matcher(name).matches();
    }

    /** Creates an empty queue; {@link CreateResult#EXISTS} if the name is taken (options unchanged). */
    CreateResult create(String name, QueueOptions options);

    /** Deletes a queue with its journal and cursor; {@code false} if there was no such queue. */
    boolean delete(String name);

    /** The names of all queues, sorted. */
    List<String> list();

    /** Appends one message; refused with {@link PushResult.Full} if the queue holds max length already. */
    PushResult push(String name, byte[] payload);

    /**
     * Appends several messages with consecutive ids, all or none with respect to the max length: if
     * they do not all fit, nothing is stored and {@link PushResult.Full} is returned.
     */
    PushResult pushBatch(String name, List<byte[]> payloads);

    /**
     * As {@link #pushBatch(String, List)}, with an idempotency key per message (null for none): a
     * message whose key was pushed within the store's window is not stored again, and its original id
     * is returned in {@link PushResult.Stored#ids()} (keys survive restarts).
     */
    PushResult pushBatch(String name, List<byte[]> payloads, List<String> keys);

    /**
     * As {@link #pushBatch(String, List, List)} without blocking for the sync: the append happens now,
     * the future completes when the messages have the durability the policy promises (at once with
     * {@link Fsync#NONE}). No thread waits meanwhile, so many pushes can share one sync.
     */
    java.util.concurrent.CompletableFuture<PushResult> pushBatchAsync(String name, List<byte[]> payloads,
                                                                      List<String> keys);

    /** Removes and returns the oldest message. */
    PullResult pull(String name);

    /** Removes and returns up to {@code max} of the oldest messages (not leased ones). */
    BatchPullResult pullBatch(String name, int max);

    /**
     * Leases up to {@code max} of the oldest available messages: they stay stored, invisible to other
     * pulls and leases, until acknowledged or until {@code visibility} passes; then they are available
     * again (ahead of newer messages) with their delivery count one higher. A message leased
     * {@code max_deliveries} times without an ack moves to the dead-letter queue instead.
     * Leases do not survive a restart: leased, unacknowledged messages are delivered again after one.
     */
    LeaseResult lease(String name, int max, java.time.Duration visibility);

    /**
     * Acknowledges leased messages: they are gone for good (durable against kill -9 when this returns).
     * An expired lease is rejected and acknowledges nothing, even if its message was not redelivered.
     */
    SettleResult ack(String name, List<String> leases);

    /** Releases leased messages: available again after {@code delay} (zero: at once). */
    SettleResult nack(String name, List<String> leases, java.time.Duration delay);

    /** Extends leases to {@code visibility} from now. */
    SettleResult renew(String name, List<String> leases, java.time.Duration visibility);

    /**
     * Moves every message of the queue's dead-letter queue back to the queue (as new messages, oldest
     * first), as far as the queue's max length allows.
     *
     * @return how many moved, or -1 if the queue does not exist
     */
    long redrive(String name);

    /** The options the queue was created with, or empty if there is no such queue. Cheap. */
    Optional<QueueOptions> options(String name);

    /** The queue's statistics, or empty if there is no such queue. Measures disk use: not for hot paths. */
    Optional<QueueStats> stats(String name);

    /** Writes a checkpoint of every queue's metadata and cursor now (also done periodically). */
    void checkpoint();

    /** Writes a final checkpoint and releases every file. Idempotent. */
    @Override
    void close();
}

/** Holds the compiled {@link QueueStore#NAME_PATTERN}. */
final class NamePattern {
    static final Pattern COMPILED = Pattern.compile(QueueStore.NAME_PATTERN);

    private NamePattern() {
    }
}
