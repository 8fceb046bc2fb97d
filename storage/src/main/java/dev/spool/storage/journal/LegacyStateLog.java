package dev.spool.storage.journal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spool.storage.AtomicFile;
import dev.spool.storage.StoreConfig;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.TreeSet;

/**
 * Upgrades a state log of the first format (entries {@code [kind 1][id 8][delivery 4][time 8][key length
 * 2][key]} with no magic or version, and a {@code leases.json} snapshot beside it) to the current
 * {@link StateLog}: the old state is read whole, written as the first snapshot of a new log built in
 * {@code state.upgrading}, marked complete, then swapped in. An upgrade killed at any point is finished or
 * redone at the next open.
 */
final class LegacyStateLog {
    private static final Logger LOG = LoggerFactory.getLogger(LegacyStateLog.class);
    static final String SNAPSHOT_FILE = "leases.json";
    private static final String UPGRADING = StateLog.DIR + ".upgrading";
    private static final String COMPLETE = "upgrade-complete";
    private static final byte DONE = 1;
    private static final byte LEASE = 2;
    private static final byte KEY = 3;
    private static final int V1_ENTRY = 23;

    private LegacyStateLog() {
    }

    /** Upgrades the queue's state log in place if it is of the first format (or finishes an upgrade). */
    static void upgradeIfNeeded(String name, Path queueDir, StoreConfig config, Quarantine quarantine)
            throws IOException {
        Path upgrading = queueDir.resolve(UPGRADING);
        Path state = queueDir.resolve(StateLog.DIR);
        if (Files.exists(upgrading.resolve(COMPLETE))) {
            swapIn(queueDir, upgrading, state);
            return;
        }
        FileTrees.delete(upgrading);
        StateLog.State old;
        try (ChronicleFolder folder = ChronicleFolder.open(state, config.rollCycle(), config.clock(), quarantine)) {
            if (folder.lastIndex() < 0 || !isFirstFormat(folder)) {
                return;
            }
            old = read(name, queueDir, folder);
        }
        LOG.warn("queue '{}': upgrading its state log to the current format ({} acknowledgements, {} delivery counts, "
                + "{} idempotency keys)", name, old.done().size(), old.deliveries().size(), old.keys().size());
        Path tmp = queueDir.resolve("upgrade-tmp");
        FileTrees.delete(tmp);
        Files.createDirectories(tmp);
        Files.move(tmp, upgrading, StandardCopyOption.ATOMIC_MOVE);
        try (StateLog fresh = StateLog.openIn(name, upgrading.resolve(StateLog.DIR), config, quarantine)) {
            long begin = fresh.beginSnapshot(old.floor(), old.gaps());
            fresh.finishSnapshot(begin, old);
            fresh.force();
        }
        Files.createFile(upgrading.resolve(COMPLETE));
        AtomicFile.syncDirectory(upgrading);
        swapIn(queueDir, upgrading, state);
    }

    private static void swapIn(Path queueDir, Path upgrading, Path state) throws IOException {
        FileTrees.delete(state);
        Files.move(upgrading.resolve(StateLog.DIR), state, StandardCopyOption.ATOMIC_MOVE);
        Files.deleteIfExists(queueDir.resolve(SNAPSHOT_FILE));
        AtomicFile.syncDirectory(queueDir);
        FileTrees.delete(upgrading);
    }

    private static boolean isFirstFormat(ChronicleFolder folder) {
        try (ExcerptTailer t = folder.tailer(); DocumentContext dc = t.readingDocument()) {
            return dc.isPresent() && !StateCodec.hasMagic(dc.wire().bytes());
        }
    }

    private static StateLog.State read(String name, Path queueDir, ChronicleFolder folder) {
        StateLog.State s = StateLog.State.empty();
        TreeSet<Long> done = new TreeSet<>();
        long after = readSnapshot(name, queueDir.resolve(SNAPSHOT_FILE), s, done);
        try (ExcerptTailer t = folder.tailer()) {
            if (after >= 0 && t.moveToIndex(after)) {
                try (DocumentContext dc = t.readingDocument()) {
                    dc.isPresent(); // the snapshot covers this entry
                }
            } else {
                t.toStart();
            }
            while (true) {
                try (DocumentContext dc = t.readingDocument()) {
                    if (!dc.isPresent()) {
                        break;
                    }
                    Bytes<?> b = dc.wire().bytes();
                    if (b.readRemaining() < V1_ENTRY) {
                        LOG.error("queue '{}': a short entry in the old state log at index {}; skipped", name,
                                Long.toHexString(dc.index()));
                        continue;
                    }
                    byte kind = b.readByte();
                    long id = b.readLong();
                    int delivery = b.readInt();
                    long time = b.readLong();
                    byte[] key = new byte[b.readUnsignedShort()];
                    if (kind == KEY) {
                        b.read(key);
                        s.keys().putIfAbsent(new String(key, StandardCharsets.UTF_8), new IdempotencyWindow.Seen(id, time));
                    } else if (kind == DONE) {
                        done.add(id);
                        s.deliveries().remove(id);
                    } else if (kind == LEASE && !done.contains(id)) {
                        s.deliveries().merge(id, delivery, Math::max);
                    }
                }
            }
        }
        s.done().addAll(done);
        return s;
    }

    /** Reads {@code leases.json} into the state; returns the index it covers up to, or -1. */
    private static long readSnapshot(String name, Path file, StateLog.State s, TreeSet<Long> done) {
        if (!Files.exists(file)) {
            return -1;
        }
        try {
            JsonNode n = new ObjectMapper().readTree(file.toFile());
            if (n.path("version").asInt() != 1) {
                throw new IOException("unsupported version " + n.path("version"));
            }
            n.path("done").forEach(v -> done.add(v.asLong()));
            n.path("deliveries").properties().forEach(e -> s.deliveries().put(Long.parseLong(e.getKey()),
                    e.getValue().asInt()));
            n.path("keys").properties().forEach(e -> s.keys().put(e.getKey(),
                    new IdempotencyWindow.Seen(e.getValue().path(0).asLong(), e.getValue().path(1).asLong())));
            return n.path("state_index").asLong(-1);
        } catch (IOException | RuntimeException e) {
            LOG.error("queue '{}': the old lease snapshot {} is damaged ({}); upgrading from the old state log alone "
                    + "(acknowledgements in files it had let go may be delivered again)", name, file, e.toString());
            done.clear();
            s.deliveries().clear();
            s.keys().clear();
            return -1;
        }
    }
}
