package dev.spool.storage.journal;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A queue's named subscriptions: each a {@link Reader} of the queue's one journal with files of its own
 * ({@link Subscription}), opened at recovery, created, moved (seek, retention), paused and deleted here. The queue
 * composes them with its own reader; what both touch (the push lock, the fence, the change count) is the queue's.
 */
final class Subscriptions {
    private static final Logger LOG = LoggerFactory.getLogger(Subscriptions.class);

    private final Queue owner;
    private final String name;
    private final Path dir;
    private final Journal journal;
    private final Quarantine quarantine;
    private final Queue.Events events;
    private final Clock clock;
    private final Fence fence;
    private final AtomicLong changes;
    /** By name (the queue's own reader is not among them). */
    private final ConcurrentSkipListMap<String, Queue.Named> subs = new ConcurrentSkipListMap<>();

    Subscriptions(Queue owner, Journal journal, Quarantine quarantine, Queue.Events events, Clock clock, Fence fence,
                  AtomicLong changes) {
        this.owner = owner;
        this.name = owner.name;
        this.dir = owner.dir;
        this.journal = journal;
        this.quarantine = quarantine;
        this.events = events;
        this.clock = clock;
        this.fence = fence;
        this.changes = changes;
    }

    Queue.Named get(String sub) {
        return subs.get(sub);
    }

    java.util.Collection<Queue.Named> all() {
        return subs.values();
    }

    boolean isEmpty() {
        return subs.isEmpty();
    }

    /** Opens the subscriptions found in the queue's folder (recovery, before the queue serves). */
    void open(ObjectMapper json, dev.spool.storage.StoreConfig config) throws IOException {
        for (Path d : Subscription.scan(dir)) {
            Subscription.Meta m;
            try {
                m = Subscription.Meta.read(json, d);
            } catch (IOException e) {
                LOG.error("queue '{}': subscription folder {} is unreadable ({}); it is left as it is and not served, "
                        + "and the queue's journal files are all kept until it is repaired or removed (restart then)",
                        name, d, e.getMessage());
                // Held for good: its position is unknown, so no file it may need is deleted.
                journal.entries().newReader(Cursor.NO_INDEX);
                continue;
            }
            subs.put(m.name(), new Queue.Named(m, openReader(d, m, config), d));
        }
    }

    /** Opens a subscription's reader from its folder, positioned at its cursor, its log replayed. */
    private Reader openReader(Path d, Subscription.Meta m, dev.spool.storage.StoreConfig config) throws IOException {
        Cursor c = Cursor.open(d.resolve(Queue.CURSOR_FILE));
        StateLog sl = null;
        EntryFile.Reader tail = null;
        try {
            Cursor.Position pos = c.position();
            if (!c.isValid()) {
                LOG.error("queue '{}' subscription '{}': cursor file is damaged; it starts again from the queue's "
                        + "oldest message (those it consumed are delivered again)", name, m.name());
                pos = Cursor.Position.START;
                c.reset(pos);
                c.sync();
            }
            sl = StateLog.openIn(m.name(), d.resolve(StateLog.DIR), config, quarantine);
            StateLog.State saved = sl.recover();
            tail = journal.entries().newReader(pos.index());
            if (!tail.moveAfter(pos)) {
                LOG.error("queue '{}' subscription '{}': its position (index {}, id {}) is not in the journal; reading "
                        + "on from the first message after id {}", name, m.name(), Long.toHexString(pos.index()),
                        pos.id(), pos.id());
                tail.skipThrough(pos.id());
            }
            LeaseTable leases = new LeaseTable(pos.id(), pos.index(), m.maxDeliveries(),
                    new Nonces(new java.security.SecureRandom()));
            leases.restore(saved.done(), saved.deliveries());
            leases.forgetAbove(journal.lastId());
            Reader r = new Reader(owner, m.name(), tail, events, journal, c, sl, leases, clock, fence, changes);
            r.pause(m.paused());
            return r;
        } catch (IOException | RuntimeException e) {
            if (tail != null) {
                tail.close();
            }
            if (sl != null) {
                sl.close();
            }
            c.close();
            throw e;
        }
    }

    /**
     * Creates subscription {@code m} starting at {@code start}; null if the name is taken, else its reader.
     * The caller serialises administration of the queue.
     */
    Queue.Named create(Subscription.Meta m, dev.spool.storage.SubscriptionStart start, ObjectMapper json,
                       dev.spool.storage.StoreConfig config) throws IOException, Queue.BadStart {
        if (subs.containsKey(m.name()) || Files.exists(Subscription.dir(dir, m.name()))) {
            return null; // taken, or a folder of that name not served (unreadable at the start)
        }
        // A reader of its own holds retention back while the place is found and the subscription's reader opens.
        try (EntryFile.Reader holder = journal.entries().newReader(Cursor.NO_INDEX)) {
            Places.Place p = Places.of(journal, holder, start, name);
            Path d = Subscription.create(dir, m, p.after(), json, config, quarantine);
            Reader r;
            try {
                r = openReader(d, m, config);
            } catch (IOException | RuntimeException e) {
                Subscription.remove(dir, m.name());
                throw e;
            }
            Queue.Named n = new Queue.Named(m, r, d);
            subs.put(m.name(), n);
            return n;
        }
    }

    /** Moves a subscription to {@code start} (see {@link Reader#seek}); false if it is closed. */
    boolean seek(Queue.Named n, dev.spool.storage.SubscriptionStart start) throws IOException, Queue.BadStart {
        try (EntryFile.Reader holder = journal.entries().newReader(Cursor.NO_INDEX)) {
            Places.Place p = Places.of(journal, holder, start, name);
            long r = n.reader.seek(p.after(), p.firstIndex(), n.meta.maxDeliveries());
            if (r == Reader.GONE) {
                throw new Queue.BadStart("the messages at that start were deleted while the seek ran (retention): "
                        + "seek again");
            }
            return r >= 0;
        }
    }

    /** Pauses or resumes a subscription, durably. */
    void pause(Queue.Named n, boolean paused, ObjectMapper json) throws IOException {
        rewrite(n, n.meta.withPaused(paused), json);
        n.reader.pause(paused);
        if (!paused) {
            events.available(n.reader, 1);
        }
    }

    /** Writes a subscription's new settings (a temporary file renamed into place), then serves them. */
    private static Subscription.Meta rewrite(Queue.Named n, Subscription.Meta m, ObjectMapper json) throws IOException {
        m.write(json, n.dir);
        n.meta = m;
        return m;
    }

    /** Closes and removes a subscription; false if there is none of that name. */
    boolean delete(String sub) throws IOException {
        Queue.Named n = subs.remove(sub);
        if (n == null) {
            return false;
        }
        n.reader.closeOwn();
        Subscription.remove(dir, sub);
        journal.entries().retainNow();
        return true;
    }

    /**
     * Applies the retention bounds: the journal files wholly older than {@code maxAge}, or beyond the newest
     * {@code maxBytes} of journal files, may go; every named subscription still positioned in them is moved forward
     * to the first message after them ({@link Reader#skipTo}: what it acknowledged above is kept) and counts the
     * messages it skipped, in its {@code subscription.json}. The queue's own reader is never moved, so a file it still
     * needs stays. The newest file always stays. The queue's own bounds ({@code retention_max_age_seconds},
     * {@code retention_max_bytes} at its creation) override the store's. The store holds its administration and
     * checkpoint locks.
     */
    void enforceRetention(dev.spool.storage.StoreConfig.Retention storeWide, long now, ObjectMapper json)
            throws IOException {
        if (subs.isEmpty()) {
            return;
        }
        dev.spool.storage.QueueOptions o = owner.meta.options();
        dev.spool.storage.StoreConfig.Retention r = new dev.spool.storage.StoreConfig.Retention(
                o.retentionMaxAgeSeconds() > 0 ? java.time.Duration.ofSeconds(o.retentionMaxAgeSeconds())
                        : storeWide.maxAge(),
                o.retentionMaxBytes() > 0 ? o.retentionMaxBytes() : storeWide.maxBytes());
        if (!r.bounded()) {
            return;
        }
        try (EntryFile.Reader holder = journal.entries().newReader(Cursor.NO_INDEX)) {
            Places.Place bound = Places.retentionBound(journal.entries().folder(), holder, r, now);
            if (bound == null) {
                return;
            }
            Cursor.Position after = bound.after();
            long first = bound.firstIndex();
            for (Queue.Named n : subs.values()) {
                if (n.reader.floor() >= after.id()) {
                    continue;
                }
                long skipped = n.reader.skipTo(after, first, n.meta.maxDeliveries());
                if (skipped == Reader.GONE) {
                    throw new IOException("the journal lost the entry at the retention bound while moving subscription '"
                            + n.meta.name() + "'");
                }
                if (skipped > 0) {
                    Subscription.Meta m = rewrite(n, n.meta.withSkipped(skipped), json);
                    LOG.warn("queue '{}' subscription '{}': {} messages it had not consumed were past the retention "
                            + "bounds (retention.max_age {}, retention.max_bytes {}); it moves on to message id {}",
                            name, m.name(), skipped, r.maxAge(), r.maxBytes(), holder.idAtIndex(first));
                }
            }
        }
        journal.entries().retainNow();
    }

    /** A named subscription's stats. */
    dev.spool.storage.SubscriptionStats stats(Queue.Named n) {
        Reader r = n.reader;
        long floor = r.floor();
        long oldestAge = 0;
        if (r.depth() > 0) {
            try {
                long at = journal.entries().times().appendedAt(floor + 1);
                oldestAge = at < 0 ? 0 : Math.max(0, clock.millis() - at);
            } catch (IOException e) {
                LOG.debug("queue '{}': reading time marks: {}", name, e.toString());
            }
        }
        return new dev.spool.storage.SubscriptionStats(name, n.meta.name(), floor, r.depth(), r.inFlight(), oldestAge,
                n.meta.skipped(), r.paused(), n.meta.createdAt(), n.meta.maxDeliveries(), n.meta.deadLetterQueue(),
                r.counts());
    }
}
