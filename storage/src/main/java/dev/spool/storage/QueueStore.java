package dev.spool.storage;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * The storage port: named FIFO queues of opaque messages.
 *
 * <p>Outcomes are values: every call on a named queue may answer {@link NoSuchQueue}, and nothing else
 * means "no such queue". Failures of the file system are {@link StoreException}s with a classified
 * {@link StoreException.Code} (thrown, or completing a stage exceptionally).
 *
 * <p>Threads and the disk: {@link #append}, {@link #take}, {@link #lease} and {@link #settle} never wait
 * for the disk or for a lock held across disk work: they change memory-mapped files and return a stage
 * that completes when the change has the durability the {@link Fsync} policy promises, completed by the
 * store's syncing thread (at once under {@link Fsync#NONE}). They may run on a server's IO thread.
 * {@link #create}, {@link #delete}, {@link #redrive}, {@link #stats} and {@link #checkpoint} may wait for
 * the disk: call them from a worker.
 *
 * <p>Thread safety: every method may be called from any thread. Pushes to one queue are serialised by
 * that queue's push lock and everything that consumes by its pull lock; no lock is shared between queues.
 *
 * <p>Durability when a stage completes (against a crash of the process, for example {@code kill -9},
 * with every policy; against power loss as {@link Fsync} says; a lease's delivery counts are synced
 * lazily, with the next sync made for another reason):
 * <ul>
 *   <li>{@link #append} with {@link PushResult.Stored}: the messages are in the journal and will be
 *       delivered.</li>
 *   <li>{@link #take} with messages: the cursor has moved past them; they are never returned again.</li>
 *   <li>{@link #settle} with {@link Settlement#ACK} accepted: those messages are never delivered again.</li>
 *   <li>{@link #create} answering {@link CreateResult#CREATED} and {@link #delete} answering
 *       {@link DeleteResult.Deleted}: the change is on disk and not undone by a crash.</li>
 * </ul>
 *
 * <p>The store announces availability itself: {@link #subscribe} to be told when messages become
 * available in a queue (pushed, released, a lease expired, a delay ended, redriven, dead-lettered).
 */
public interface QueueStore extends AutoCloseable {

    /** The queue names a store accepts (120 characters at most, so a suffix such as {@code .dlq} fits). */
    String NAME_PATTERN = "[A-Za-z0-9][A-Za-z0-9._-]{0,119}";

    /** Whether {@code name} is a valid queue name; invalid names are refused with IllegalArgumentException. */
    static boolean isValidName(String name) {
        // NAME_PATTERN by hand: checked on every request, where a regex match costs more than the rest of routing.
        if (name == null || name.isEmpty() || name.length() > 120) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
            if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) {
                return false;
            }
        }
        return true;
    }

    /** Creates an empty queue; {@link CreateResult#EXISTS} if the name is taken (options unchanged). May wait for disk. */
    CreateResult create(String name, QueueOptions options);

    /** Deletes a queue with its journal and cursor. May wait for disk. */
    DeleteResult delete(String name);

    /** The names of all queues, sorted. */
    List<String> list();

    /** The options the queue was created with. Cheap. */
    OptionsResult options(String name);

    /** The queue's statistics. Measures disk use (may wait for disk): not for hot paths. */
    StatsResult stats(String name);

    /**
     * Appends one or more messages with consecutive ids, all or none with respect to the max length: if
     * they do not all fit, nothing is stored and the answer is {@link PushResult.Full}. With
     * {@code keys} (null, or one per message, null for none), a message whose idempotency key was pushed
     * within the store's window is not stored again and its original id is answered (keys survive
     * restarts). Never waits for disk.
     */
    CompletionStage<PushResult> append(String name, List<byte[]> payloads, List<String> keys);

    /** Removes and returns up to {@code max} of the oldest messages that are not leased. Never waits for disk. */
    CompletionStage<TakeResult> take(String name, int max);

    /**
     * Leases up to {@code max} of the oldest available messages: they stay stored, invisible to other
     * takes and leases, until acknowledged or until {@code visibility} passes; then they are available
     * again (ahead of newer messages) with their delivery count one higher. A message leased
     * {@code max_deliveries} times without an ack moves to the dead-letter queue instead (by the store's
     * own thread). Leases do not survive a restart: unacknowledged messages are delivered again after one,
     * with their delivery counts. Never waits for disk.
     */
    CompletionStage<LeaseResult> lease(String name, int max, Duration visibility);

    /**
     * Acknowledges ({@link Settlement#ACK}), releases after {@code duration} ({@link Settlement#NACK}) or
     * extends to {@code duration} from now ({@link Settlement#RENEW}) leased messages. An expired lease is
     * rejected and changes nothing, even if its message was not redelivered. Never waits for disk.
     */
    CompletionStage<SettleResult> settle(String name, Settlement how, List<String> leases, Duration duration);

    /**
     * Moves every message of the queue's dead-letter queue back to the queue (as new messages, oldest
     * first), as far as the queue's max length allows. May wait for disk.
     */
    RedriveResult redrive(String name);

    /** What this store guarantees; see {@link StoreContract}. */
    default StoreContract contract() {
        return StoreContract.EXACT;
    }

    /**
     * As {@link #take(String, int)}, waiting up to {@code wait} for a message when none is available, for a
     * store whose {@link StoreContract#waitsInside()}; other stores answer at once.
     */
    default CompletionStage<TakeResult> take(String name, int max, Duration wait) {
        return take(name, max);
    }

    /** As {@link #lease(String, int, Duration)}, waiting like {@link #take(String, int, Duration)}. */
    default CompletionStage<LeaseResult> lease(String name, int max, Duration visibility, Duration wait) {
        return lease(name, max, visibility);
    }

    /**
     * Where a lease issued by another node of a cluster is settled: that node's advertised URL. Empty when this
     * node settles it itself (its own leases, leases of a node that has gone, and strings that are no lease).
     */
    default Optional<String> leaseOwner(String lease) {
        return Optional.empty();
    }

    /**
     * A map every node of the cluster sees alike (users and sessions use it), or empty for a store that serves
     * one node only. The same name gives the same map.
     */
    default Optional<SharedMap> shared(String name) {
        return Optional.empty();
    }

    /**
     * Queues that take no changes because a sync of their files failed, each with the reason (sorted by name);
     * empty when every queue takes changes. Such a queue refuses pushes, pulls, leases and acks with
     * {@link StoreException.Code#QUEUE_FAILED} until the store is opened again (a restart), which re-checks its
     * files.
     */
    default Map<String, String> failedQueues() {
        return Map.of();
    }

    /**
     * Why the engine under a store that is not this process's own (a Kafka cluster) cannot serve now, in one line
     * for {@code /health/ready}; null while it can, and always null for a store that keeps its own files.
     */
    default String engineProblem() {
        return null;
    }

    // ---- named subscriptions (issue 22): a queue read by several consumers, each at its own position --------

    /** Subscription names: as queue names, 64 characters at most. */
    String SUBSCRIPTION_PATTERN = "[A-Za-z0-9][A-Za-z0-9._-]{0,63}";

    /** Whether {@code name} is a valid subscription name. */
    static boolean isValidSubscription(String name) {
        return name != null && name.length() <= 64 && isValidName(name);
    }

    /**
     * Creates a named subscription of a queue: it receives every message pushed from its start on, with its own
     * position, leases, delivery counts and dead-letter queue; {@link SubscriptionResult.Exists} if the name is
     * taken, {@link SubscriptionResult.BadStart} if the start is outside the queue. May wait for disk.
     *
     * @throws UnsupportedOperationException on a backend without subscriptions
     */
    default SubscriptionResult createSubscription(String queue, String name, SubscriptionSpec spec) {
        throw new UnsupportedOperationException("this backend has no subscriptions");
    }

    /** Deletes a named subscription with its position and leases (its dead-letter queue stays). May wait for disk. */
    default DeleteResult deleteSubscription(String queue, String name) {
        throw new UnsupportedOperationException("this backend has no subscriptions");
    }

    /** One subscription's {@link SubscriptionStats}, or every one's ({@code name} null) as {@link SubscriptionResult.Listed}. */
    default SubscriptionResult subscription(String queue, String name) {
        throw new UnsupportedOperationException("this backend has no subscriptions");
    }

    /**
     * Moves a subscription to {@code start}, forwards or back (the replay): it re-delivers from there, nothing is
     * copied; its leases of the old position are refused as unknown. May wait for disk.
     */
    default SubscriptionResult seek(String queue, String name, SubscriptionStart start) {
        throw new UnsupportedOperationException("this backend has no subscriptions");
    }

    /** Pauses (pulls and leases through it are answered empty; pushes go on) or resumes a subscription. */
    default SubscriptionResult pause(String queue, String name, boolean paused) {
        throw new UnsupportedOperationException("this backend has no subscriptions");
    }

    /** As {@link #take(String, int, Duration)} through subscription {@code sub} (null: the queue's own). */
    default CompletionStage<TakeResult> take(String name, String sub, int max, Duration wait) {
        if (sub == null) {
            return take(name, max, wait);
        }
        throw new UnsupportedOperationException("this backend has no subscriptions");
    }

    /** As {@link #lease(String, int, Duration, Duration)} through subscription {@code sub} (null: the queue's own). */
    default CompletionStage<LeaseResult> lease(String name, String sub, int max, Duration visibility, Duration wait) {
        if (sub == null) {
            return lease(name, max, visibility, wait);
        }
        throw new UnsupportedOperationException("this backend has no subscriptions");
    }

    /** As {@link #settle} for leases taken through subscription {@code sub} (null: the queue's own). */
    default CompletionStage<SettleResult> settle(String name, String sub, Settlement how, List<String> leases,
                                                 Duration duration) {
        if (sub == null) {
            return settle(name, how, leases, duration);
        }
        throw new UnsupportedOperationException("this backend has no subscriptions");
    }

    /** As {@link #redrive} from subscription {@code sub}'s dead-letter queue back to the queue (null: the queue's own). */
    default RedriveResult redrive(String name, String sub) {
        if (sub == null) {
            return redrive(name);
        }
        throw new UnsupportedOperationException("this backend has no subscriptions");
    }

    /**
     * The name {@link AvailabilityListener}s are told for subscription {@code sub} of {@code queue}: the queue's
     * own name for its default subscription, else {@code queue/sub} (neither name may hold a slash).
     */
    static String availabilityKey(String queue, String sub) {
        return sub == null ? queue : queue + "/" + sub;
    }

    /** Adds a listener told when messages become available; see {@link AvailabilityListener}. */
    void subscribe(AvailabilityListener listener);

    /** Writes a checkpoint of every queue's metadata and cursor now (also done periodically). May wait for disk. */
    void checkpoint();

    /** Writes a final checkpoint and releases every file. Idempotent. */
    @Override
    void close();
}
