package dev.spool.storage.journal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spool.storage.AvailabilityListener;
import dev.spool.storage.CreateResult;
import dev.spool.storage.DeadLetterCodec;
import dev.spool.storage.DeleteResult;
import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.Message;
import dev.spool.storage.NoSuchQueue;
import dev.spool.storage.OptionsResult;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.QueueStore;
import dev.spool.storage.RedriveResult;
import dev.spool.storage.SettleResult;
import dev.spool.storage.Settlement;
import dev.spool.storage.StatsResult;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreException;
import dev.spool.storage.NoSuchSubscription;
import dev.spool.storage.SubscriptionResult;
import dev.spool.storage.SubscriptionSpec;
import dev.spool.storage.SubscriptionStart;
import dev.spool.storage.TakeResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The journal-backed {@link QueueStore}.
 *
 * <p>On disk, beside the checkpoint file {@code F} (see {@link StoreConfig#checkpointFile()}):
 * {@code queues/<name>/queue.json} (metadata, written at creation), {@code queues/<name>/cursor.dat}
 * (the durable cursor and write head), {@code queues/<name>/journal/*.cq4} (the journal) and
 * {@code queues/<name>/state/*.cq4} (the lease state log). A queue is created by building its folder
 * under a temporary name and renaming it into place, and deleted by renaming it away before removing its
 * files, so a crash never leaves half a queue.
 *
 * <p>Recovery ({@link #open}) reads the checkpoint, then every queue folder, trusting the folder's own
 * files over the checkpoint (they are newer); it reads two journal entries per queue whatever the backlog.
 *
 * <p>Threads of its own: a syncer (under {@code interval} and {@code always}), a checkpointer, and one
 * store thread that moves dead letters and wakes queues at lease expiries and delay ends.
 */
public final class JournalQueueStore implements QueueStore {
    private static final Logger LOG = LoggerFactory.getLogger(JournalQueueStore.class);
    static final String QUEUES_DIR = QueueFolders.QUEUES_DIR;
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);
    /** How often the free space is measured (pushes between samples are counted against it). */
    private static final long SPACE_SAMPLE_MS = 50;
    /** How often the retention bounds are applied to named subscriptions (nothing to do for a queue without any). */
    private static final long RETENTION_PERIOD_MS = 1_000;

    private final StoreConfig config;
    private final DeadLetters deadLetters;
    private final QueueFolders folders;
    private final ObjectMapper json = new ObjectMapper();
    private final ConcurrentHashMap<String, OpenQueue> open = new ConcurrentHashMap<>();
    private final List<AvailabilityListener> listeners = new CopyOnWriteArrayList<>();
    private final Object adminLock = new Object();
    private final Object checkpointLock = new Object();
    private final FsyncPolicy fsync;
    private final StoreThreads threads = new StoreThreads();
    private final Queue.Events events = new Events();
    private final DataDirLock dirLock;
    private final DiskSpace space;
    private final SubscriptionAdmin subscriptions = new SubscriptionAdmin(this);
    private volatile boolean closed;
    /** Set once recovery finished: a store that failed to open writes no checkpoint of its half-read state. */
    private volatile boolean recovered;

    private JournalQueueStore(StoreConfig config, DeadLetterCodec deadLetterCodec, DataDirLock dirLock) {
        this.dirLock = dirLock;
        this.config = config;
        this.deadLetters = new DeadLetters(this, deadLetterCodec);
        this.folders = new QueueFolders(config.directory(), json);
        this.fsync = FsyncPolicy.of(config, () -> open.values().stream().map(OpenQueue::commit).iterator());
        this.space = new DiskSpace(config.directory(), config.minFreeBytes());
    }

    /**
     * Opens (recovering) or creates the store described by {@code config}, holding an exclusive lock on
     * its folder ({@code spool.lock}) until {@link #close()}.
     *
     * @throws StoreException {@link StoreException.Code#LOCKED} if another process (or another open store
     *                        in this JVM) holds the folder; nothing was read or written then
     */
    public static JournalQueueStore open(StoreConfig config) {
        return open(config, DeadLetterCodec.IDENTITY);
    }

    /** As {@link #open(StoreConfig)}, rewriting messages with {@code codec} as they are dead-lettered. */
    public static JournalQueueStore open(StoreConfig config, DeadLetterCodec codec) {
        // Before reading anything: a second broker on this folder is refused, not allowed to corrupt it.
        DataDirLock lock = DataDirLock.acquire(config.directory());
        ChronicleSettings.apply();
        JournalQueueStore store = new JournalQueueStore(config, codec, lock);
        try {
            store.recover();
        } catch (IOException e) {
            store.close();
            throw StoreException.of("opening store at " + config.directory(), e, config.directory());
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        store.threads.everyOnStoreThread(store.space::sample, SPACE_SAMPLE_MS);
        // Every second, also with no store-wide bounds: a queue may carry bounds of its own.
        store.threads.everyOnStoreThread(store::enforceRetention, RETENTION_PERIOD_MS);
        long periodMs = config.checkpointPeriod().toMillis();
        store.threads.everyOnCheckpointer(store::periodicCheckpoint, periodMs);
        return store;
    }

    private void recover() throws IOException {
        Files.createDirectories(folders.root());
        space.sample();
        Map<String, Checkpoint.Entry> saved;
        try {
            saved = Checkpoint.read(json, config.checkpointFile());
        } catch (Checkpoint.CorruptCheckpointException e) {
            LOG.error("checkpoint {} is corrupt: {}; recovering every queue from its journal and cursor files",
                    config.checkpointFile(), e.getMessage());
            saved = Map.of();
        }
        for (QueueFolders.Found f : folders.scan(saved)) {
            Queue q = Recovery.open(f.dir(), f.meta(), config, f.entry() == null ? null : f.entry().cursor(), events,
                    space);
            try {
                q.openSubscriptions(json, config);
            } catch (IOException | RuntimeException e) {
                q.close();
                throw e;
            }
            open.put(f.meta().name(), new OpenQueue(q, commitOf(q)));
        }
        LOG.info("store at {} opened: {} queues", config.directory(), open.size());
        recovered = true;
        checkpoint();
    }

    private GroupCommit commitOf(Queue q) {
        // Where pulls and acks wait for their sync (fsync: always), a failed one can be undone.
        return new GroupCommit(q, config.syncDelay(), config.observer(), fsync.consumersWait());
    }

    // ---- administration (may wait for disk) -------------------------------------------------------

    @Override
    public CreateResult create(String name, QueueOptions options) {
        checkName(name);
        synchronized (adminLock) {
            ensureOpen();
            if (open.containsKey(name)) {
                return CreateResult.EXISTS;
            }
            QueueMeta meta = new QueueMeta(name, options, config.clock().instant());
            if (!space.admit(0)) {
                throw space.refusal(name);
            }
            config.syncDelay().beforeSync();
            Path dir;
            try {
                dir = folders.create(meta);
            } catch (IOException e) {
                throw StoreException.of("creating queue '" + name + "'", e, folders.root());
            }
            Queue q = null;
            try {
                q = Recovery.open(dir, meta, config, null, events, space);
                // Every file the queue needs (Chronicle's own among them) is durable before the create is
                // answered: a power loss must not leave an empty metadata.cq4t for the next start to set aside.
                FileTrees.sync(dir);
            } catch (IOException | RuntimeException | InternalError e) {
                // Not answered, so not done: the folder goes, and a later create of the name starts afresh.
                if (q != null) {
                    q.close();
                }
                try {
                    folders.delete(dir, name);
                } catch (IOException | RuntimeException gone) {
                    e.addSuppressed(gone);
                }
                throw StoreException.of("creating queue '" + name + "'", e, folders.root());
            }
            open.put(name, new OpenQueue(q, commitOf(q)));
            return CreateResult.CREATED;
        }
    }

    @Override
    public DeleteResult delete(String name) {
        checkName(name);
        synchronized (adminLock) {
            ensureOpen();
            OpenQueue o = open.remove(name);
            if (o == null) {
                return new NoSuchQueue(name);
            }
            // Closing takes the queue's own locks, so calls in progress finish first and later ones see a
            // closed queue ("no such queue").
            o.queue().close();
            o.commit().wakeAll();
            try {
                folders.delete(o.queue().dir, name);
            } catch (IOException e) {
                throw StoreException.of("deleting queue '" + name + "'", e, folders.root());
            }
            return new DeleteResult.Deleted();
        }
    }

    @Override
    public List<String> list() {
        List<String> names = new ArrayList<>(open.keySet());
        names.sort(Comparator.naturalOrder());
        return names;
    }

    @Override
    public OptionsResult options(String name) {
        OpenQueue o = open.get(name);
        return o == null ? new NoSuchQueue(name) : o.queue().meta.options();
    }

    @Override
    public Map<String, String> failedQueues() {
        Map<String, String> out = new java.util.TreeMap<>();
        for (OpenQueue o : open.values()) {
            String why = o.queue().failure();
            if (why != null) {
                out.put(o.queue().name, why);
            }
        }
        return out;
    }

    @Override
    public StatsResult stats(String name) {
        OpenQueue o = open.get(name);
        return o == null ? new NoSuchQueue(name) : o.queue().stats();
    }

    // ---- the hot path (never waits for disk) ------------------------------------------------------

    @Override
    public CompletionStage<PushResult> append(String name, List<byte[]> payloads, List<String> keys) {
        if (payloads.isEmpty()) {
            throw new IllegalArgumentException("a batch must hold at least one message");
        }
        if (keys != null && keys.size() != payloads.size()) {
            throw new IllegalArgumentException("keys must match payloads one to one");
        }
        OpenQueue o = open.get(name);
        if (o == null) {
            return CompletableFuture.completedFuture(new NoSuchQueue(name));
        }
        Journal.Appended r;
        try {
            r = o.queue().append(payloads, keys);
        } catch (StoreException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (r instanceof Journal.Refused f) {
            return CompletableFuture.completedFuture(f.full());
        }
        if (!(r instanceof Journal.Stored s)) {
            return CompletableFuture.completedFuture(new NoSuchQueue(name));
        }
        if (s.duplicates() < s.count()) {
            int fresh = s.count() - s.duplicates();
            announce(name, fresh);
            for (Queue.Named n : o.queue().subscriptions()) {
                announce(QueueStore.availabilityKey(name, n.meta.name()), fresh);
            }
        }
        return answered(o, s);
    }

    /** A stored push's answer once it is as durable as the policy's wait makes it (the one place that is set). */
    private CompletionStage<PushResult> answered(OpenQueue o, Journal.Stored s) {
        PushResult stored = s.as(fsync.durability());
        return fsync.afterPush(o.commit(), o.queue().changes()).thenApply(v -> stored);
    }

    @Override
    public CompletionStage<TakeResult> take(String name, int max) {
        return take(name, null, max, Duration.ZERO);
    }

    @Override
    public CompletionStage<TakeResult> take(String name, String sub, int max, Duration wait) {
        OpenQueue o = open.get(name);
        Reader reader = readerOf(o, sub);
        if (reader == null) {
            return CompletableFuture.completedFuture(gone(o, name, sub));
        }
        List<Message> taken;
        try {
            taken = reader.take(max);
        } catch (StoreException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (taken == null) {
            return CompletableFuture.completedFuture(gone(o, name, sub));
        }
        TakeResult r = new TakeResult.Taken(taken);
        return o.settled(taken.isEmpty() ? DONE : fsync.afterConsume(o.commit(), o.queue().changes()), r);
    }

    @Override
    public CompletionStage<LeaseResult> lease(String name, int max, Duration visibility) {
        return lease(name, null, max, visibility, Duration.ZERO);
    }

    @Override
    public CompletionStage<LeaseResult> lease(String name, String sub, int max, Duration visibility, Duration wait) {
        OpenQueue o = open.get(name);
        Reader reader = readerOf(o, sub);
        if (reader == null) {
            return CompletableFuture.completedFuture(gone(o, name, sub));
        }
        List<Leased> leased;
        try {
            leased = reader.lease(max, visibility.toMillis());
        } catch (StoreException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (leased == null) {
            return CompletableFuture.completedFuture(gone(o, name, sub));
        }
        LeaseResult r = new LeaseResult.Granted(leased);
        // A lease changes nothing a power cut must keep (leases do not survive a restart; delivery counts
        // are synced lazily, see StateLog#mustSyncEntries), so it waits for no sync, only for the dead-letter
        // moves it may have started.
        return o.settled(DONE, r);
    }

    @Override
    public CompletionStage<SettleResult> settle(String name, Settlement how, List<String> leases, Duration duration) {
        return settle(name, null, how, leases, duration);
    }

    @Override
    public CompletionStage<SettleResult> settle(String name, String sub, Settlement how, List<String> leases,
                                                Duration duration) {
        OpenQueue o = open.get(name);
        Reader reader = readerOf(o, sub);
        if (reader == null) {
            return CompletableFuture.completedFuture(gone(o, name, sub));
        }
        SettleResult.Settled r;
        try {
            r = reader.settle(how, leases, duration.toMillis());
        } catch (StoreException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (r == null) {
            return CompletableFuture.completedFuture(gone(o, name, sub));
        }
        CompletableFuture<Void> synced = how != Settlement.ACK || r.accepted() == 0
                ? DONE : fsync.afterConsume(o.commit(), o.queue().changes());
        return o.settled(synced, r);
    }

    /** The reader of subscription {@code sub} (null: the queue's own) of an open queue, or null. */
    private static Reader readerOf(OpenQueue o, String sub) {
        if (o == null) {
            return null;
        }
        if (sub == null) {
            return o.queue().reader();
        }
        Queue.Named n = o.queue().subscription(sub);
        return n == null ? null : n.reader;
    }

    /**
     * What a call on a queue or subscription that is not there (or closed under it) answers: both records are every
     * consuming call's outcome.
     */
    @SuppressWarnings("unchecked")
    private <T> T gone(OpenQueue o, String name, String sub) {
        Object r = sub == null || o == null || open.get(name) != o ? new NoSuchQueue(name)
                : new NoSuchSubscription(name, sub);
        return (T) r;
    }

    // ---- named subscriptions (may wait for disk; see SubscriptionAdmin) ----------------------------

    @Override
    public SubscriptionResult createSubscription(String queue, String sub, SubscriptionSpec spec) {
        return subscriptions.create(queue, sub, spec);
    }

    @Override
    public DeleteResult deleteSubscription(String queue, String sub) {
        return subscriptions.delete(queue, sub);
    }

    @Override
    public SubscriptionResult subscription(String queue, String sub) {
        return subscriptions.show(queue, sub);
    }

    @Override
    public SubscriptionResult seek(String queue, String sub, SubscriptionStart start) {
        return subscriptions.seek(queue, sub, start);
    }

    @Override
    public SubscriptionResult pause(String queue, String sub, boolean paused) {
        return subscriptions.pause(queue, sub, paused);
    }

    /** Applies {@code retention.*} now (the store's thread does it every second). */
    void enforceRetention() {
        subscriptions.enforceRetention();
    }

    Object adminLock() {
        return adminLock;
    }

    Object checkpointLock() {
        return checkpointLock;
    }

    java.util.Collection<OpenQueue> openQueues() {
        return open.values();
    }

    ObjectMapper json() {
        return json;
    }

    StoreConfig config() {
        return config;
    }

    DiskSpace space() {
        return space;
    }

    @Override
    public RedriveResult redrive(String name) {
        OpenQueue target = open.get(name);
        if (target == null) {
            return new NoSuchQueue(name);
        }
        OpenQueue dlq = open.get(target.queue().meta.options().deadLetterQueueFor(name));
        if (dlq == null) {
            return new RedriveResult.Moved(0);
        }
        return deadLetters.redrive(target, target.queue().reader(), dlq);
    }

    @Override
    public RedriveResult redrive(String name, String sub) {
        if (sub == null) {
            return redrive(name);
        }
        OpenQueue target = open.get(name);
        Reader to = readerOf(target, sub);
        if (to == null) {
            return gone(target, name, sub);
        }
        synchronized (adminLock) {
            if (open.get(name) != target || target.queue().subscription(sub) == null) {
                return gone(target, name, sub);
            }
            OpenQueue dlq = open.get(DeadLetters.deadLetterQueue(to));
            if (dlq == null) {
                return new RedriveResult.Moved(0);
            }
            return deadLetters.redrive(target, to, dlq);
        }
    }

    /** Appends messages for subscription {@code to} alone (see {@link Queue#appendFor}), durable as a push. */
    CompletionStage<PushResult> appendFor(OpenQueue o, Reader to, List<byte[]> payloads) {
        Journal.Appended r;
        try {
            r = o.queue().appendFor(to, payloads);
        } catch (StoreException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (!(r instanceof Journal.Stored s)) {
            return CompletableFuture.completedFuture(new NoSuchQueue(o.queue().name));
        }
        announce(QueueStore.availabilityKey(o.queue().name, to.subscription()), s.count());
        return answered(o, s);
    }

    @Override
    public void subscribe(AvailabilityListener listener) {
        listeners.add(listener);
    }

    private void announce(String queue, int count) {
        for (AvailabilityListener l : listeners) {
            try {
                l.available(queue, count);
            } catch (RuntimeException e) {
                LOG.error("availability listener failed for queue '{}'", queue, e);
            }
        }
    }

    /** What queues tell the store: announced, or handed to the store's own thread. */
    private final class Events implements Queue.Events {
        @Override
        public void available(Reader r, int count) {
            announce(QueueStore.availabilityKey(r.owner().name, r.subscription()), count);
        }

        @Override
        public void deadLetters(Reader r) {
            deadLetters.schedule(r);
        }

        @Override
        public void reserveIds(Queue q) {
            onStoreThread(q.journal()::extendReservation, 0);
        }

        @Override
        public void deadline(Reader r, long atMillis) {
            onStoreThread(r::expireDue, Math.max(0, atMillis - config.clock().millis()));
        }
    }

    /** The open queue of that name, or null. */
    OpenQueue opened(String name) {
        return open.get(name);
    }

    boolean isClosed() {
        return closed;
    }

    /** Hands a task to the store thread; false if the store is closing and the task will not run. */
    boolean onStoreThread(Runnable task, long delayMillis) {
        return !closed && threads.onStoreThread(task, delayMillis);
    }

    // ---- checkpoints -------------------------------------------------------------------------------

    /** Writes the checkpoint, and a lease snapshot of every queue whose state log changed since its last. */
    @Override
    public void checkpoint() {
        checkpoint(true);
    }

    /** @param allSnapshots snapshot every changed state log, not only those that grew enough to pay off */
    private void checkpoint(boolean allSnapshots) {
        synchronized (checkpointLock) {
            Checkpoint.take(json, config, open.values(), allSnapshots);
        }
    }

    private void periodicCheckpoint() {
        try {
            checkpoint(false);
        } catch (RuntimeException e) {
            LOG.error("periodic checkpoint failed (will retry): {}", e.toString());
        }
    }

    /** Waits until the store thread has done what was handed to it so far (for tests: dead letters). */
    void awaitStoreThread() {
        threads.awaitStoreThread();
    }

    /** Syncs run for the named queue (for tests: group commit shares them). */
    long syncCount(String name) {
        return open.get(name).commit().syncs();
    }

    /** Entries read while recovering the named queue (for tests: recovery must not scale with backlog). */
    int entriesReadAtOpen(String name) {
        return open.get(name).queue().entriesReadAtOpen();
    }

    @Override
    public void close() {
        synchronized (adminLock) {
            if (closed) {
                return;
            }
            closed = true;
            threads.shutdown();
            if (recovered) {
                try {
                    checkpoint(true);
                    LOG.info("final checkpoint written to {}", config.checkpointFile());
                } catch (RuntimeException e) {
                    LOG.error("final checkpoint FAILED: {}", e.toString());
                }
            }
            fsync.close();
            deadLetters.abandon();
            for (OpenQueue o : open.values()) {
                o.queue().close();
                o.commit().wakeAll();
            }
            open.clear();
            dirLock.close();
        }
    }

    void ensureOpen() {
        if (closed) {
            throw new StoreException(StoreException.Code.CLOSED, "store is closed", null);
        }
    }

    static void checkName(String name) {
        if (!QueueStore.isValidName(name)) {
            throw new IllegalArgumentException("queue name must match " + QueueStore.NAME_PATTERN + ", was '"
                    + name + "'");
        }
    }
}
