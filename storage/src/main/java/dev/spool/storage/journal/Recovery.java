package dev.spool.storage.journal;

import dev.spool.storage.StoreConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens a queue's files and reconciles them: the journal's end is checked against the write head in O(1) (only a
 * damaged journal is read whole, and rebuilt), the state log is replayed from its newest snapshot, the reader is
 * put back at its cursor, and ids up to the last reservation are skipped after an unclean stop.
 */
final class Recovery {
    private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);

    private Recovery() {
    }

    /** What recovery found, for the queue to be built from. */
    record Recovered(Cursor cursorFile, EntryFile entries, StateLog log, LeaseTable leases, IdempotencyWindow keys,
                     List<StateLog.Gap> gaps, long lastId, long lastIndex, int entriesRead, Quarantine quarantine,
                     Addressed addressed) {
    }

    /**
     * @param fallback the cursor from the checkpoint, used only when the cursor file is damaged
     */
    static Queue open(Path dir, QueueMeta meta, StoreConfig config, Cursor.Position fallback, Queue.Events events,
                      DiskSpace space) throws IOException {
        return new Queue(meta, dir, config.clock(), events, space, recover(dir, meta, config, fallback));
    }

    private static Recovered recover(Path dir, QueueMeta meta, StoreConfig config, Cursor.Position fallback)
            throws IOException {
        String name = meta.name();
        Quarantine quarantine = new Quarantine(dir, config.clock());
        Cursor cursor = Cursor.open(dir.resolve(Queue.CURSOR_FILE));
        EntryFile journal = null;
        StateLog state = null;
        try {
            Cursor.Position pos = cursor.position();
            if (!cursor.isValid()) {
                pos = fallback == null ? Cursor.Position.START : fallback;
                LOG.error("queue '{}': cursor file {} is damaged; recovering from the checkpoint's cursor {} "
                        + "(messages pulled after that checkpoint may be delivered again)", name,
                        dir.resolve(Queue.CURSOR_FILE), pos);
                cursor.reset(pos);
            }
            TailCheck.finishInterrupted(dir, quarantine, name);
            journal = EntryFile.open(name, dir, config, quarantine);
            TailCheck.Counter reads = new TailCheck.Counter();
            Cursor.Position end = TailCheck.verify(journal.folder(), cursor.recoveredHead(), reads);
            if (end == null) {
                journal.close();
                journal = null;
                LOG.error("queue '{}': the journal's tail is torn or damaged (it does not end at the last "
                        + "acknowledged message, id {}); rebuilding it from its intact entries", name,
                        cursor.recoveredHead() == null ? "unknown" : cursor.recoveredHead().id());
                // Entries keep their indexes in the rebuilt journal: the cursor stays as it is.
                long lastIntact = TailCheck.rebuild(dir, config, cursor.recoveredHead(), pos.id(), name, quarantine);
                journal = EntryFile.open(name, dir, config, quarantine);
                end = new Cursor.Position(journal.folder().lastIndex(), lastIntact);
            }
            state = StateLog.open(name, dir, config, quarantine);
            StateLog.State saved = state.recover();
            if (!journal.reader().moveAfter(pos)) {
                LOG.error("queue '{}': cursor (index {}, id {}) is not in the journal; scanning the journal for the "
                        + "first message after id {}", name, Long.toHexString(pos.index()), pos.id(), pos.id());
                journal.reader().skipThrough(pos.id());
            } else {
                journal.reader().holdFrom(pos.index());
            }
            long last = end.id();
            if (last < pos.id()) {
                LOG.error("queue '{}': journal ends at id {} but the cursor is at id {}: the journal tail was lost; "
                        + "new messages continue from id {}", name, last, pos.id(), pos.id() + 1);
                last = pos.id();
            }
            long subsConsumed = Subscription.highestPosition(dir);
            if (last < subsConsumed) {
                LOG.error("queue '{}': journal ends at id {} but a subscription has consumed up to id {}: the journal "
                        + "tail was lost; new messages continue from id {}", name, last, subsConsumed, subsConsumed + 1);
                last = subsConsumed;
            }
            cursor.head(end.index(), last);
            List<StateLog.Gap> gaps = new ArrayList<>(saved.gaps());
            for (StateLog.Gap g : gaps) {
                last = Math.max(last, g.to()); // skipped at an earlier start: handed out as far as messages go
            }
            long reserve = cursor.recoveredReserve();
            if (reserve > last) {
                // An unclean stop: ids up to the reservation may have been answered for messages the journal
                // lost (a power cut under fsync none). None of them is ever used again.
                StateLog.Gap gap = new StateLog.Gap(last + 1, reserve);
                LOG.warn("queue '{}': the broker did not stop cleanly; ids {} to {} are skipped so that no id is used "
                        + "twice, and the next message gets id {}", name, gap.from(), gap.to(), reserve + 1);
                state.gap(gap);
                state.force();
                gaps.add(gap);
                last = reserve;
            }
            cursor.reserve(last + Journal.ID_BLOCK);
            cursor.sync();
            LeaseTable leases = new LeaseTable(pos.id(), pos.index(), meta.options().maxDeliveries(),
                    new Nonces(new SecureRandom()));
            leases.restore(saved.done(), saved.deliveries());
            leases.forgetAbove(last);
            IdempotencyWindow keys = new IdempotencyWindow(config.idempotencyWindow().toMillis(),
                    StoreConfig.MAX_IDEMPOTENCY_KEYS);
            long lastStored = last;
            saved.keys().forEach((k, seen) -> {
                // A key logged for a message that was never appended (a crash in between, a batch that failed
                // part-way) is dropped.
                if (seen.id() <= lastStored && !Journal.inGap(gaps, seen.id())) {
                    keys.remember(k, seen.id(), seen.time());
                }
            });
            keys.expire(config.clock().millis());
            quarantine.prune();
            return new Recovered(cursor, journal, state, leases, keys, gaps, last, end.index(), reads.get(),
                    quarantine, Addressed.open(dir, name));
        } catch (IOException | RuntimeException e) {
            if (state != null) {
                state.close();
            }
            if (journal != null) {
                journal.close();
            }
            cursor.close();
            throw e;
        }
    }
}
