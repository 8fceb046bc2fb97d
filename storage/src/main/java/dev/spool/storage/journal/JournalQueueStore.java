package dev.spool.storage.journal;

import dev.spool.storage.*;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

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
    static final String QUEUES_DIR = "queues";
    private static final String CREATING = ".creating-";
    private static final String DELETING = ".deleting-";
    /** Dead letters moved back per round of a redrive. */
    private static final int REDRIVE_BATCH = 256;
    private static final CompletableFuture<Void> DONE = CompletableFuture.completedFuture(null);
    /** How often the free space is measured (pushes between samples are counted against it). */
    private static final long SPACE_SAMPLE_MS = 50;

    /** An open queue, its group commit, and the dead-letter moves handed to the store thread. */
    private static final class Open {
        final Queue queue;
        final GroupCommit commit;
        /** Completes when every dead-letter move scheduled so far has finished. */
        volatile CompletableFuture<Void> moves = CompletableFuture.completedFuture(null);

        Open(Queue queue, GroupCommit commit) {
            this.queue = queue;
            this.commit = commit;
        }

        Queue queue() {
            return queue;
        }

        GroupCommit commit() {
            return commit;
        }

        /**
         * What a call that consumed from the queue waits for before it answers: its own changes' sync, and
         * the dead-letter moves it may have started, so a caller who saw a message dead-lettered finds it
         * in the dead-letter queue. Neither holds a thread.
         */
        <T> CompletionStage<T> settled(CompletableFuture<Void> synced, T result) {
            CompletableFuture<Void> pending = moves;
            if (synced.isDone() && pending.isDone() && !synced.isCompletedExceptionally()) {
                return CompletableFuture.completedFuture(result); // the common case under fsync none: no chain
            }
            return synced.thenCombine(pending, (a, b) -> result);
        }
    }

    private final StoreConfig config;
    private final DeadLetterCodec deadLetterCodec;
    private final ObjectMapper json = new ObjectMapper();
    private final Path queuesDir;
    private final ConcurrentHashMap<String, Open> open = new ConcurrentHashMap<>();
    private final List<AvailabilityListener> listeners = new CopyOnWriteArrayList<>();
    private final Object adminLock = new Object();
    private final Object checkpointLock = new Object();
    private final AtomicLong tempCounter = new AtomicLong();
    private final FsyncPolicy fsync;
    private final ScheduledExecutorService checkpointer = daemon("spool-checkpoint");
    private final ScheduledExecutorService storeThread = daemon("spool-store");
    private final Queue.Events events = new Events();
    /** Dead-letter moves not finished yet: completed at close, so no answer waits for a move that never runs. */
    private final Set<CompletableFuture<Void>> pendingMoves = ConcurrentHashMap.newKeySet();
    private final DataDirLock dirLock;
    private final DiskSpace space;
    private volatile boolean closed;
    /** Set once recovery finished: a store that failed to open writes no checkpoint of its half-read state. */
    private volatile boolean recovered;

    private JournalQueueStore(StoreConfig config, DeadLetterCodec deadLetterCodec, DataDirLock dirLock) {
        this.dirLock = dirLock;
        this.config = config;
        this.deadLetterCodec = deadLetterCodec;
        this.queuesDir = config.directory().resolve(QUEUES_DIR);
        this.fsync = FsyncPolicy.of(config, () -> open.values().stream().map(Open::commit).iterator());
        this.space = new DiskSpace(config.directory(), config.minFreeBytes());
    }

    private static ScheduledExecutorService daemon(String name) {
        ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        // At close, timers not yet due are dropped: what they would do is redone at the next start.
        e.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        e.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        return e;
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
        store.storeThread.scheduleWithFixedDelay(store.space::sample, SPACE_SAMPLE_MS, SPACE_SAMPLE_MS,
                TimeUnit.MILLISECONDS);
        long periodMs = config.checkpointPeriod().toMillis();
        store.checkpointer.scheduleWithFixedDelay(store::periodicCheckpoint, periodMs, periodMs,
                TimeUnit.MILLISECONDS);
        return store;
    }

    private void recover() throws IOException {
        Files.createDirectories(queuesDir);
        space.sample();
        Map<String, Checkpoint.Entry> saved;
        try {
            saved = Checkpoint.read(json, config.checkpointFile());
        } catch (Checkpoint.CorruptCheckpointException e) {
            LOG.error("checkpoint {} is corrupt: {}; recovering every queue from its journal and cursor files",
                    config.checkpointFile(), e.getMessage());
            saved = Map.of();
        }
        Map<String, Checkpoint.Entry> unseen = new HashMap<>(saved);
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(queuesDir)) {
            for (Path dir : dirs) {
                String dirName = dir.getFileName().toString();
                if (dirName.startsWith(CREATING) || dirName.startsWith(DELETING)) {
                    // An unfinished create or delete: neither was acknowledged, so neither happened.
                    deleteTree(dir);
                    continue;
                }
                if (!Files.isDirectory(dir)) {
                    continue;
                }
                Checkpoint.Entry entry = unseen.remove(dirName);
                QueueMeta meta = readMeta(dir, dirName, entry);
                if (meta == null) {
                    continue;
                }
                Queue q = Recovery.open(dir, meta, config, entry == null ? null : entry.cursor(), events, space);
                open.put(meta.name(), new Open(q, commitOf(q)));
            }
        }
        for (String gone : unseen.keySet()) {
            LOG.info("queue '{}' is in the checkpoint but its folder is gone: it was deleted after the checkpoint",
                    gone);
        }
        LOG.info("store at {} opened: {} queues", config.directory(), open.size());
        recovered = true;
        checkpoint();
    }

    private GroupCommit commitOf(Queue q) {
        // Under fsync: always, pulls and acks wait for their sync, so a failed one can be undone.
        return new GroupCommit(q, config.syncDelay(), config.observer(), config.fsync() == Fsync.ALWAYS);
    }

    private QueueMeta readMeta(Path dir, String dirName, Checkpoint.Entry entry) throws IOException {
        try {
            QueueMeta meta = QueueMeta.read(json, dir);
            if (!meta.name().equals(dirName)) {
                throw new IllegalArgumentException("name '" + meta.name() + "' differs from its folder");
            }
            return meta;
        } catch (IOException | RuntimeException e) {
            if (entry != null) {
                LOG.error("queue '{}': metadata file {} is damaged ({}); restoring it from the checkpoint",
                        dirName, dir.resolve(QueueMeta.FILE), e.toString());
                entry.meta().write(json, dir);
                return entry.meta();
            }
            LOG.error("queue '{}': metadata file {} is damaged ({}) and the checkpoint has no copy; the queue's "
                    + "files are left untouched in {} and the queue is not served", dirName,
                    dir.resolve(QueueMeta.FILE), e.toString(), dir);
            return null;
        }
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
            Path tmp = queuesDir.resolve(CREATING + name + "-" + tempCounter.incrementAndGet());
            Path dir = queuesDir.resolve(name);
            try {
                Queue.createFiles(tmp, meta, json);
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
                AtomicFile.syncDirectory(queuesDir);
                Queue q = Recovery.open(dir, meta, config, null, events, space);
                try {
                    // Every file the queue needs (Chronicle's own among them) is durable before the create is
                    // answered: a power loss must not leave an empty metadata.cq4t for the next start to set aside.
                    FileTrees.sync(dir);
                } catch (IOException | RuntimeException e) {
                    q.close();
                    throw e;
                }
                open.put(name, new Open(q, commitOf(q)));
            } catch (IOException e) {
                deleteTree(tmp);
                throw StoreException.of("creating queue '" + name + "'", e, queuesDir);
            }
            return CreateResult.CREATED;
        }
    }

    @Override
    public DeleteResult delete(String name) {
        checkName(name);
        synchronized (adminLock) {
            ensureOpen();
            Open o = open.remove(name);
            if (o == null) {
                return new NoSuchQueue(name);
            }
            // Closing takes the queue's own locks, so calls in progress finish first and later ones see a
            // closed queue ("no such queue").
            o.queue().close();
            o.commit().wakeAll();
            Path gone = queuesDir.resolve(DELETING + name + "-" + tempCounter.incrementAndGet());
            try {
                Files.move(o.queue().dir, gone, StandardCopyOption.ATOMIC_MOVE);
                AtomicFile.syncDirectory(queuesDir);
            } catch (IOException e) {
                throw StoreException.of("deleting queue '" + name + "'", e, queuesDir);
            }
            deleteTree(gone);
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
        Open o = open.get(name);
        return o == null ? new NoSuchQueue(name) : o.queue().meta.options();
    }

    @Override
    public Map<String, String> failedQueues() {
        Map<String, String> out = new java.util.TreeMap<>();
        for (Open o : open.values()) {
            String why = o.queue().failure();
            if (why != null) {
                out.put(o.queue().name, why);
            }
        }
        return out;
    }

    @Override
    public StatsResult stats(String name) {
        Open o = open.get(name);
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
        Open o = open.get(name);
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
            announce(name, s.count() - s.duplicates());
        }
        // The one place a push's durability is set: what the policy's wait gives it.
        PushResult stored = s.as(fsync.durability());
        return fsync.afterPush(o.commit(), o.queue().changes()).thenApply(v -> stored);
    }

    @Override
    public CompletionStage<TakeResult> take(String name, int max) {
        Open o = open.get(name);
        if (o == null) {
            return CompletableFuture.completedFuture(new NoSuchQueue(name));
        }
        List<Message> taken;
        try {
            taken = o.queue().reader().take(max);
        } catch (StoreException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (taken == null) {
            return CompletableFuture.completedFuture(new NoSuchQueue(name));
        }
        TakeResult r = new TakeResult.Taken(taken);
        return o.settled(taken.isEmpty() ? DONE : fsync.afterConsume(o.commit(), o.queue().changes()), r);
    }

    @Override
    public CompletionStage<LeaseResult> lease(String name, int max, Duration visibility) {
        Open o = open.get(name);
        if (o == null) {
            return CompletableFuture.completedFuture(new NoSuchQueue(name));
        }
        List<Leased> leased;
        try {
            leased = o.queue().reader().lease(max, visibility.toMillis());
        } catch (StoreException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (leased == null) {
            return CompletableFuture.completedFuture(new NoSuchQueue(name));
        }
        LeaseResult r = new LeaseResult.Granted(leased);
        // A lease changes nothing a power cut must keep (leases do not survive a restart; delivery counts
        // are synced lazily, see StateLog#mustSyncEntries), so it waits for no sync, only for the dead-letter
        // moves it may have started.
        return o.settled(DONE, r);
    }

    @Override
    public CompletionStage<SettleResult> settle(String name, Settlement how, List<String> leases, Duration duration) {
        Open o = open.get(name);
        if (o == null) {
            return CompletableFuture.completedFuture(new NoSuchQueue(name));
        }
        SettleResult.Settled r;
        try {
            r = o.queue().reader().settle(how, leases, duration.toMillis());
        } catch (StoreException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (r == null) {
            return CompletableFuture.completedFuture(new NoSuchQueue(name));
        }
        CompletableFuture<Void> synced = how != Settlement.ACK || r.accepted() == 0
                ? DONE : fsync.afterConsume(o.commit(), o.queue().changes());
        return o.settled(synced, r);
    }

    @Override
    public RedriveResult redrive(String name) {
        Open target = open.get(name);
        if (target == null) {
            return new NoSuchQueue(name);
        }
        Open dlq = open.get(target.queue().meta.options().deadLetterQueueFor(name));
        if (dlq == null) {
            return new RedriveResult.Moved(0);
        }
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
            // Leased, appended, then acknowledged: a crash in between leaves a copy in both queues, never none.
            if (join(append(name, payloads, null)) instanceof PushResult.Stored) {
                join(settle(dlq.queue().name, Settlement.ACK, tokens, Duration.ZERO));
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
        public void available(Queue q, int count) {
            announce(q.name, count);
        }

        @Override
        public void deadLetters(Queue q) {
            Open o = open.get(q.name);
            CompletableFuture<Void> moved = new CompletableFuture<>();
            pendingMoves.add(moved);
            moved.whenComplete((v, t) -> pendingMoves.remove(moved));
            if (o != null && o.queue() == q) {
                o.moves = o.moves.thenCombine(moved, (a, b) -> null);
            }
            if (!onStoreThread(() -> moveDeadLetters(q, moved), 0)) {
                moved.complete(null); // closing: the messages stay here and are dead-lettered after the restart
            }
        }

        @Override
        public void reserveIds(Queue q) {
            onStoreThread(q.journal()::extendReservation, 0);
        }

        @Override
        public void deadline(Queue q, long atMillis) {
            onStoreThread(q.reader()::expireDue, Math.max(0, atMillis - config.clock().millis()));
        }
    }

    /** Hands a task to the store thread; false if the store is closing and the task will not run. */
    private boolean onStoreThread(Runnable task, long delayMillis) {
        if (closed) {
            return false;
        }
        try {
            storeThread.schedule(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.error("store task failed", e);
                }
            }, delayMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (RejectedExecutionException e) {
            // Closing: the work is redone at the next start (leases and dead letters are recovered).
            return false;
        }
    }

    /**
     * Appends a queue's pending dead letters to its dead-letter queue (creating it), then marks them done
     * in the queue once the copy is as durable as the policy promises. A crash in between leaves a message
     * in both queues (at least once), never in neither. Runs on the store thread.
     */
    private void moveDeadLetters(Queue from, CompletableFuture<Void> moved) {
        List<Queue.DeadLetter> letters = from.reader().takeDeadLetters();
        if (letters.isEmpty()) {
            moved.complete(null);
            return;
        }
        String dlqName = from.meta.options().deadLetterQueueFor(from.name);
        List<byte[]> payloads = new ArrayList<>(letters.size());
        for (Queue.DeadLetter d : letters) {
            payloads.add(deadLetterCodec.deadLetter(d.payload(), from.name, d.id(), d.deliveries()));
        }
        CompletionStage<PushResult> appended;
        try {
            if (!open.containsKey(dlqName) && !closed) {
                create(dlqName, QueueOptions.ofMaxLength(Long.MAX_VALUE));
            }
            appended = append(dlqName, payloads, null);
        } catch (RuntimeException e) {
            appended = CompletableFuture.failedFuture(e);
        }
        appended.whenComplete((r, t) -> {
            try {
                boolean stored = t == null && r instanceof PushResult.Stored;
                if (stored) {
                    Faults.at(Faults.Point.DEAD_LETTER_MOVE);
                }
                if (!stored) {
                    LOG.error("queue '{}': moving {} messages to the dead-letter queue '{}' failed ({}); they stay here",
                            from.name, letters.size(), dlqName, t != null ? t.toString() : r);
                }
                for (Queue.DeadLetter d : letters) {
                    from.reader().deadLettered(d.id(), stored);
                }
            } finally {
                moved.complete(null);
            }
        });
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
            long start = System.nanoTime();
            config.syncDelay().beforeSync();
            List<Checkpoint.Entry> entries = new ArrayList<>();
            for (Open o : open.values()) {
                entries.add(new Checkpoint.Entry(o.queue().meta, o.queue().cursorPosition()));
            }
            entries.sort(Comparator.comparing(e -> e.meta().name()));
            try {
                for (Open o : open.values()) {
                    Queue.Snapshot s = o.queue().beginSnapshot(allSnapshots);
                    if (s != null) {
                        try {
                            o.queue().finishSnapshot(s);
                        } catch (IOException | RuntimeException | InternalError e) {
                            // The state log's sync failed: what it holds is unknown, and retrying proves nothing.
                            o.queue().fail("a sync of its state log's snapshot failed (" + e + ")", false);
                        }
                    }
                }
                Faults.at(Faults.Point.CHECKPOINT);
                Checkpoint.write(json, config.checkpointFile(), entries, config.clock().instant());
                config.observer().checkpointed(System.nanoTime() - start);
            } catch (IOException | RuntimeException | InternalError e) {
                throw StoreException.of("writing checkpoint " + config.checkpointFile(), e, config.directory());
            }
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
        try {
            storeThread.submit(() -> { }).get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
            for (ScheduledExecutorService s : List.of(checkpointer, storeThread)) {
                s.shutdown();
                try {
                    if (!s.awaitTermination(10, TimeUnit.SECONDS)) {
                        LOG.warn("background work did not finish within 10 s of close");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (recovered) {
                try {
                    checkpoint(true);
                    LOG.info("final checkpoint written to {}", config.checkpointFile());
                } catch (RuntimeException e) {
                    LOG.error("final checkpoint FAILED: {}", e.toString());
                }
            }
            fsync.close();
            pendingMoves.forEach(f -> f.complete(null));
            for (Open o : open.values()) {
                o.queue().close();
                o.commit().wakeAll();
            }
            open.clear();
            dirLock.close();
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new StoreException(StoreException.Code.CLOSED, "store is closed", null);
        }
    }

    private static void checkName(String name) {
        if (!QueueStore.isValidName(name)) {
            throw new IllegalArgumentException("queue name must match " + QueueStore.NAME_PATTERN + ", was '"
                    + name + "'");
        }
    }

    private static void deleteTree(Path root) {
        try {
            FileTrees.delete(root);
        } catch (IOException e) {
            LOG.warn("could not remove {} completely: {} (it is ignored and retried at the next start)", root,
                    e.toString());
        }
    }
}
