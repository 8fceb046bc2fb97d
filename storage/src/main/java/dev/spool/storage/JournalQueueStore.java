package dev.spool.storage;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The journal-backed {@link QueueStore}.
 *
 * <p>On disk, beside the checkpoint file {@code F} (see {@link StoreConfig#checkpointFile()}):
 * {@code queues/<name>/queue.json} (metadata, written at creation), {@code queues/<name>/cursor.dat}
 * (the durable cursor) and {@code queues/<name>/journal/*.cq4} (the Chronicle Queue journal).
 * A queue is created by building its folder under a temporary name and renaming it into place, and
 * deleted by renaming it away before removing its files, so a crash never leaves half a queue.
 *
 * <p>Recovery ({@link #open}) reads the checkpoint, then every queue folder, trusting the folder's own
 * files over the checkpoint (they are newer); it reads two journal entries per queue whatever the backlog.
 * A damaged checkpoint or cursor is reported with an ERROR log line and recovered from the other source.
 *
 * <p>Thread-safe; see {@link QueueStore} for the guarantees.
 */
public final class JournalQueueStore implements QueueStore {
    private static final Logger LOG = LoggerFactory.getLogger(JournalQueueStore.class);
    static final String QUEUES_DIR = "queues";
    private static final String CREATING = ".creating-";
    private static final String DELETING = ".deleting-";

    private record Open(Journal journal, GroupCommit commit) {
    }

    private final StoreConfig config;
    private final DeadLetterCodec deadLetterCodec;
    private final ObjectMapper json = new ObjectMapper();
    private final Path queuesDir;
    private final ConcurrentHashMap<String, Open> open = new ConcurrentHashMap<>();
    private final Object adminLock = new Object();
    private final Object checkpointLock = new Object();
    private final AtomicLong tempCounter = new AtomicLong();
    private final FsyncPolicy fsync;
    private final ScheduledExecutorService checkpointer;
    private final DataDirLock dirLock;
    private volatile boolean closed;

    private JournalQueueStore(StoreConfig config, DeadLetterCodec deadLetterCodec, DataDirLock dirLock) {
        this.dirLock = dirLock;
        this.config = config;
        this.deadLetterCodec = deadLetterCodec;
        this.queuesDir = config.directory().resolve(QUEUES_DIR);
        this.fsync = FsyncPolicy.of(config, () -> open.values().stream().map(Open::commit)::iterator);
        this.checkpointer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "spool-checkpoint");
            t.setDaemon(true);
            return t;
        });
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
        long periodMs = config.checkpointPeriod().toMillis();
        store.checkpointer.scheduleWithFixedDelay(store::periodicCheckpoint, periodMs, periodMs,
                TimeUnit.MILLISECONDS);
        return store;
    }

    private void recover() throws IOException {
        Files.createDirectories(queuesDir);
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
                Journal j = Journal.open(dir, meta, config, entry == null ? null : entry.cursor(), this::deadLetter);
                open.put(meta.name(), new Open(j, new GroupCommit(j)));
            }
        }
        for (String gone : unseen.keySet()) {
            LOG.info("queue '{}' is in the checkpoint but its folder is gone: it was deleted after the checkpoint",
                    gone);
        }
        LOG.info("store at {} opened: {} queues", config.directory(), open.size());
        checkpoint();
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

    @Override
    public CreateResult create(String name, QueueOptions options) {
        checkName(name);
        return createQueue(name, options);
    }

    private CreateResult createQueue(String name, QueueOptions options) {
        synchronized (adminLock) {
            ensureOpen();
            if (open.containsKey(name)) {
                return CreateResult.EXISTS;
            }
            QueueMeta meta = new QueueMeta(name, options, config.clock().instant());
            Path tmp = queuesDir.resolve(CREATING + name + "-" + tempCounter.incrementAndGet());
            Path dir = queuesDir.resolve(name);
            try {
                Journal.createFiles(tmp, meta, json);
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
                AtomicFile.syncDirectory(queuesDir);
                Journal j = Journal.open(dir, meta, config, null, this::deadLetter);
                open.put(name, new Open(j, new GroupCommit(j)));
            } catch (IOException e) {
                throw StoreException.of("creating queue '" + name + "'", e);
            }
            return CreateResult.CREATED;
        }
    }

    @Override
    public boolean delete(String name) {
        checkName(name);
        synchronized (adminLock) {
            ensureOpen();
            Open o = open.remove(name);
            if (o == null) {
                return false;
            }
            // Closing takes the queue's own locks, so pushes and pulls in progress finish first and later
            // ones see a closed journal ("no such queue").
            o.journal().close();
            o.commit().wakeAll();
            Path gone = queuesDir.resolve(DELETING + name + "-" + tempCounter.incrementAndGet());
            try {
                Files.move(o.journal().dir, gone, StandardCopyOption.ATOMIC_MOVE);
                AtomicFile.syncDirectory(queuesDir);
            } catch (IOException e) {
                throw StoreException.of("deleting queue '" + name + "'", e);
            }
            deleteTree(gone);
            return true;
        }
    }

    @Override
    public List<String> list() {
        List<String> names = new ArrayList<>(open.keySet());
        names.sort(Comparator.naturalOrder());
        return names;
    }

    @Override
    public PushResult push(String name, byte[] payload) {
        return pushBatch(name, List.of(payload));
    }

    @Override
    public PushResult pushBatch(String name, List<byte[]> payloads) {
        return pushBatch(name, payloads, null);
    }

    @Override
    public PushResult pushBatch(String name, List<byte[]> payloads, List<String> keys) {
        try {
            return pushBatchAsync(name, payloads, keys).join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : e;
        }
    }

    @Override
    public java.util.concurrent.CompletableFuture<PushResult> pushBatchAsync(String name, List<byte[]> payloads,
                                                                             List<String> keys) {
        if (payloads.isEmpty()) {
            throw new IllegalArgumentException("a batch must hold at least one message");
        }
        if (keys != null && keys.size() != payloads.size()) {
            throw new IllegalArgumentException("keys must match payloads one to one");
        }
        Open o = open.get(name);
        if (o == null) {
            return java.util.concurrent.CompletableFuture.completedFuture(new PushResult.NoSuchQueue());
        }
        PushResult r = o.journal().append(payloads, keys);
        if (!(r instanceof PushResult.Stored s)) {
            return java.util.concurrent.CompletableFuture.completedFuture(r);
        }
        // Duplicates were stored (and synced) before; waiting for the newest id covers them too.
        long last = 0;
        for (int i = 0; i < s.count(); i++) {
            last = Math.max(last, s.id(i));
        }
        PushResult.Stored done = fsync.durability() == s.durability() ? s : s.withDurability(fsync.durability());
        return fsync.afterPush(o.commit(), last).thenApply(v -> done);
    }

    @Override
    public PullResult pull(String name) {
        Open o = open.get(name);
        if (o == null) {
            return new PullResult.NoSuchQueue();
        }
        return o.journal().pull(fsync.syncsCursorOnPull());
    }

    @Override
    public BatchPullResult pullBatch(String name, int max) {
        Open o = open.get(name);
        if (o == null) {
            return new BatchPullResult.NoSuchQueue();
        }
        List<PullResult.Message> out = new ArrayList<>(Math.min(max, 1024));
        for (int i = 0; i < max; i++) {
            PullResult r = o.journal().pull(fsync.syncsCursorOnPull());
            if (r instanceof PullResult.Message m) {
                out.add(m);
            } else if (r instanceof PullResult.NoSuchQueue) {
                return out.isEmpty() ? new BatchPullResult.NoSuchQueue() : new BatchPullResult.Messages(out);
            } else {
                break;
            }
        }
        o.journal().flushDeadLetters();
        return new BatchPullResult.Messages(out);
    }

    @Override
    public LeaseResult lease(String name, int max, java.time.Duration visibility) {
        Open o = open.get(name);
        if (o == null) {
            return new LeaseResult.NoSuchQueue();
        }
        LeaseResult r = o.journal().lease(max, visibility.toMillis(), config.clock().millis(), fsync.syncsCursorOnPull());
        o.journal().flushDeadLetters();
        return r;
    }

    @Override
    public SettleResult ack(String name, List<String> leases) {
        return settle(name, Journal.Settle.ACK, leases, 0);
    }

    @Override
    public SettleResult nack(String name, List<String> leases, java.time.Duration delay) {
        return settle(name, Journal.Settle.NACK, leases, delay.toMillis());
    }

    @Override
    public SettleResult renew(String name, List<String> leases, java.time.Duration visibility) {
        return settle(name, Journal.Settle.RENEW, leases, visibility.toMillis());
    }

    private SettleResult settle(String name, Journal.Settle how, List<String> leases, long millis) {
        Open o = open.get(name);
        if (o == null) {
            return SettleResult.noSuchQueue();
        }
        SettleResult r = o.journal().settle(how, leases, millis, config.clock().millis(), fsync.syncsCursorOnPull());
        o.journal().flushDeadLetters();
        return r;
    }

    @Override
    public long redrive(String name) {
        Open target = open.get(name);
        if (target == null) {
            return -1;
        }
        Open dlq = open.get(target.journal().meta.options().deadLetterQueueFor(name));
        if (dlq == null) {
            return 0;
        }
        long moved = 0;
        while (true) {
            LeaseResult r = dlq.journal().lease(256, 60_000, config.clock().millis(), false);
            if (!(r instanceof LeaseResult.Granted g) || g.messages().isEmpty()) {
                return moved;
            }
            List<byte[]> payloads = new ArrayList<>();
            List<String> tokens = new ArrayList<>();
            for (Leased l : g.messages()) {
                payloads.add(l.payload());
                tokens.add(l.lease());
            }
            // Leased, appended, then acknowledged: a crash in between leaves a copy in both queues, never none.
            if (pushBatch(name, payloads) instanceof PushResult.Stored) {
                dlq.journal().settle(Journal.Settle.ACK, tokens, 0, config.clock().millis(), fsync.syncsCursorOnPull());
                moved += payloads.size();
            } else {
                dlq.journal().settle(Journal.Settle.NACK, tokens, 0, config.clock().millis(), false);
                return moved;
            }
        }
    }

    /** The dead-letter sink of every journal: appends to the source's dead-letter queue, creating it. */
    private boolean deadLetter(Journal from, long id, int deliveries, byte[] payload) {
        String dlqName = from.meta.options().deadLetterQueueFor(from.name);
        if (!open.containsKey(dlqName)) {
            createQueue(dlqName, QueueOptions.ofMaxLength(Long.MAX_VALUE));
        }
        PushResult r = push(dlqName, deadLetterCodec.deadLetter(payload, from.name, id, deliveries));
        return r instanceof PushResult.Stored;
    }

    @Override
    public Optional<QueueOptions> options(String name) {
        Open o = open.get(name);
        return o == null ? Optional.empty() : Optional.of(o.journal().meta.options());
    }

    @Override
    public Optional<QueueStats> stats(String name) {
        Open o = open.get(name);
        return o == null ? Optional.empty() : Optional.of(o.journal().stats());
    }

    @Override
    public void checkpoint() {
        synchronized (checkpointLock) {
            List<Checkpoint.Entry> entries = new ArrayList<>();
            for (Open o : open.values()) {
                Journal j = o.journal();
                entries.add(new Checkpoint.Entry(j.meta, j.cursorPosition()));
            }
            entries.sort(Comparator.comparing(e -> e.meta().name()));
            try {
                for (Open o : open.values()) {
                    Journal.LeaseSnapshot snap = o.journal().leaseSnapshot();
                    if (snap.stateIndex() >= 0) {
                        LeaseSnapshots.write(o.journal().dir, snap);
                        o.journal().snapshotWritten(snap.stateIndex());
                    }
                }
                Checkpoint.write(json, config.checkpointFile(), entries, config.clock().instant());
            } catch (IOException e) {
                throw StoreException.of("writing checkpoint " + config.checkpointFile(), e);
            }
        }
    }

    private void periodicCheckpoint() {
        try {
            checkpoint();
        } catch (RuntimeException e) {
            LOG.error("periodic checkpoint failed (will retry): {}", e.toString());
        }
    }

    /** Syncs run for the named queue (for tests: group commit shares them). */
    long syncCount(String name) {
        return open.get(name).commit().syncs();
    }

    /** Entries read while recovering the named queue (for tests: recovery must not scale with backlog). */
    int entriesReadAtOpen(String name) {
        return open.get(name).journal().entriesReadAtOpen();
    }

    @Override
    public void close() {
        synchronized (adminLock) {
            if (closed) {
                return;
            }
            closed = true;
            checkpointer.shutdown();
            try {
                if (!checkpointer.awaitTermination(10, TimeUnit.SECONDS)) {
                    LOG.warn("periodic checkpoint did not finish within 10 s of close");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                checkpoint();
            } catch (RuntimeException e) {
                LOG.error("final checkpoint failed: {}", e.toString());
            }
            fsync.close();
            for (Open o : open.values()) {
                o.journal().close();
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
