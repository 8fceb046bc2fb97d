package dev.spool.storage.kafka;

import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.Message;
import dev.spool.storage.SettleResult;
import dev.spool.storage.Settlement;
import dev.spool.storage.StoreException;
import dev.spool.storage.TakeResult;
import dev.spool.storage.kafka.Held.State;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One queue's consumers on this node, driven by one thread.
 *
 * <p>A Kafka share consumer is single-threaded and, in explicit mode, must have acknowledged every record of
 * its last poll before it may poll again. So the pump keeps consumers ("slots", {@link ShareSlot}): while requests
 * wait, a slot whose records are all settled polls; a slot holding leases keeps them; with no request waiting
 * nothing polls. Each acquisition counts a delivery, so a slot fetches no more than the requests waiting when it was
 * made take: its
 * {@code max.poll.records} is their total (up to {@link KafkaSettings#maxPollRecords()}), in
 * {@code share.acquire.mode=record_limit}, which fetches nothing more. A slot is reused for requests taking at least
 * its size; there are up to {@link #MAX_SLOTS}. Records left over (a request gave up while its poll ran) stay
 * unclaimed for {@link KafkaSettings#prefetchHold()} and are then released.
 *
 * <p>Requests (takes, leases) wait in arrival order and are served oldest offset first. A take ACCEPTs its
 * records and answers after the commit, so a taken message is never handed out again; a lease answers at
 * once. An ACK is an ACCEPT committed before the answer; a NACK a RELEASE, after its delay. Lease visibility is
 * kept by this node's clock, for any length: a slot holding a record its lease (or delayed nack, or hold) needs
 * beyond the broker's lock RENEWs it (KIP-1222) before the lock runs out, so a live lease is never handed to another
 * consumer; a record whose renewal fails is given up (its lease answers "expired").
 */
final class Pump implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Pump.class);
    /** A record is handed out or settled only with this much of its broker lock left, so the ack lands in time. */
    static final long ACK_MARGIN_MS = 250;
    /** Consumers of one queue on a node; each holds the records of its last poll until they are settled. */
    static final int MAX_SLOTS = 64;
    /** How long the write of a dead letter may take; its record stays locked meanwhile. */
    private static final long MOVE_MS = 30_000;

    final QueueEntry entry;
    private final KafkaSettings settings;
    final Map<String, Object> consumerProps;
    private final Function<ConsumerRecord<byte[], byte[]>, byte[]> payload;
    final String nodeTag;
    /**
     * How old a fetch's answer can be when a poll returns its records: the consumers' {@code request.timeout.ms}
     * (the client gives up on a request older than that and drops its connection), plus a little for the
     * client's network thread noticing it.
     */
    final long answerAgeBound;
    private static final long ANSWER_AGE_SLACK_MS = 500;
    private final Tally tally;
    private final int deliveryLimit;
    private final Function<ConsumerRecord<byte[], byte[]>, CompletableFuture<?>> mover;
    final LinkedBlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final Thread thread;
    volatile boolean closed;
    /** The consumer polling now, for a request's wakeup; set by the slots. */
    volatile KafkaShareConsumer<byte[], byte[]> polling;

    // Pump-thread state.
    private final List<ShareSlot> slots = new ArrayList<>();
    private final ArrayDeque<Demand> demands = new ArrayDeque<>();
    private final Map<String, Held> leases = new HashMap<>();
    /** Leases of this node acked or nacked lately (the latest 65,536), so one settled again is not called expired. */
    private final Map<String, Boolean> settledHere = new java.util.LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > 65_536;
        }
    };

    /**
     * @param deliveryLimit the queue's share group {@code share.delivery.count.limit}
     * @param mover         writes a record at its delivery limit to the dead-letter queue (a dead letter: to its own
     *                      topic again), completing once Kafka holds it; null: Kafka's dead-lettering alone
     */
    Pump(QueueEntry entry, KafkaSettings settings, Map<String, Object> consumerProps,
         Function<ConsumerRecord<byte[], byte[]>, byte[]> payload, Tally tally, int deliveryLimit,
         Function<ConsumerRecord<byte[], byte[]>, CompletableFuture<?>> mover) {
        this.entry = entry;
        this.deliveryLimit = deliveryLimit;
        this.mover = mover;
        this.tally = tally;
        this.settings = settings;
        this.consumerProps = consumerProps;
        this.payload = payload;
        this.nodeTag = settings.nodeId();
        this.answerAgeBound = Long.parseLong(String.valueOf(consumerProps.getOrDefault("request.timeout.ms", 30_000)))
                + ANSWER_AGE_SLACK_MS;
        this.thread = new Thread(this::run, "spool-pump-" + entry.name());
        thread.setDaemon(true);
        thread.start();
    }

    // ------------------------------------------------------------------ requests (any thread)

    CompletableFuture<TakeResult> take(int max, Duration wait) {
        CompletableFuture<TakeResult> f = new CompletableFuture<>();
        submit(() -> demands.add(new Demand(true, max, 0, deadline(wait), f)));
        return f;
    }

    CompletableFuture<LeaseResult> lease(int max, Duration visibility, Duration wait) {
        CompletableFuture<LeaseResult> f = new CompletableFuture<>();
        submit(() -> demands.add(new Demand(false, max, visibility.toMillis(), deadline(wait), f)));
        return f;
    }

    /** An ack, a nack (released after {@code duration}) or a renewal (visible for {@code duration} from now). */
    CompletableFuture<SettleResult> settle(Settlement how, List<String> tokens, Duration duration) {
        CompletableFuture<SettleResult> f = new CompletableFuture<>();
        submit(() -> settleNow(how, tokens, duration.toMillis(), f));
        return f;
    }

    /** Whether the token is a lease of this queue's current creation, issued on any node. */
    private boolean ofThisQueue(String token) {
        int dot = token.indexOf('.');
        return dot > 0 && token.startsWith(entry.uuid() + ".", dot + 1);
    }

    /** The creation this pump serves (a re-created queue gets a new pump). */
    String uuid() {
        return entry.uuid();
    }

    private String prefix() {
        return nodeTag + "." + entry.uuid() + ".";
    }

    private static long deadline(Duration wait) {
        return System.currentTimeMillis() + Math.max(0, wait.toMillis());
    }

    private void submit(Runnable r) {
        if (closed) {
            throw new StoreException(StoreException.Code.CLOSED, "the store is closed", null);
        }
        inbox.add(r);
        KafkaShareConsumer<byte[], byte[]> c = polling;
        if (c != null) {
            c.wakeup();
        }
    }

    // ------------------------------------------------------------------ the pump thread

    private void run() {
        try {
            while (!closed) {
                cycle();
            }
        } catch (RuntimeException | Error e) {
            LOG.error("pump of queue '{}' stopped: {}", entry.name(), e.toString(), e);
        } finally {
            failAll(new StoreException(StoreException.Code.CLOSED, "the store is closed", null));
            for (ShareSlot s : slots) {
                s.close();
            }
            slots.clear();
        }
    }

    private void cycle() {
        drainInbox();
        long now = System.currentTimeMillis();
        expire(now);
        serve(now);
        answerExpiredDemands(now);
        commitDecided();
        renewDue(System.currentTimeMillis());
        closeIdleSlots(now);
        ShareSlot s = demands.isEmpty() || now < pausedUntil ? null : slotFor(wanted());
        if (s == null) {
            for (Demand d : demands) {
                d.polledSince = true; // every consumer is holding leases: nothing more can be fetched now
            }
            // Nobody waits: no poll. Each poll acquires records and counts a delivery for each; records acquired
            // for nobody and released again would reach the delivery limit (and the dead-letter queue) unseen.
            waitInbox(nextTimer(now));
            return;
        }
        if (s.poll(Duration.ofMillis(100))) {
            for (Demand d : demands) {
                d.polledSince = true;
            }
        }
        passOverReleased(s);
    }

    /**
     * A consumer may have fetched newer records in the background before this node released an older one (a fetch
     * sent by a poll can be answered after it returned): such a poll returns the newer records ahead of the released
     * one. The first poll after a release that returns records but not the released one lets those newer records go
     * again, once, so that Kafka hands out the released record first (costing them a delivery, at most one per
     * release: if another node took the released record meanwhile, the next poll returns them as they are).
     */
    private void passOverReleased(ShareSlot s) {
        if (lowestReleased < 0 || s.batch.isEmpty()) {
            return;
        }
        long released = lowestReleased;
        lowestReleased = -1;
        for (Held h : s.batch) {
            if (h.record.offset() <= released) {
                return; // it came back (or an older one did): in order
            }
        }
        for (Held h : s.batch) {
            // Not one whose next delivery would be its last (or, in a dead-letter queue, bring its rewrite): that
            // would end it unseen. It is handed out as fetched instead.
            int margin = entry.deadLetter() ? 3 : 1;
            if (h.state != State.UNCLAIMED || delivery(h) + margin >= deliveryLimit) {
                return;
            }
        }
        for (Held h : s.batch) {
            letGo(h);
        }
    }

    /** How many records the waiting requests take together (at least 1, at most a slot's largest size). */
    private int wanted() {
        long n = 0;
        for (Demand d : demands) {
            if (!d.future.isDone()) {
                n += d.max;
            }
        }
        return (int) Math.max(1, Math.min(n, settings.maxPollRecords()));
    }

    /**
     * The consumer to poll for {@code wanted} records: the largest idle one that fetches no more than that, else a
     * new one of that size, else (at {@link #MAX_SLOTS}) the smallest idle one; null if every one holds records.
     */
    private ShareSlot slotFor(int wanted) {
        ShareSlot best = null;
        for (ShareSlot s : slots) {
            if (s.idle() && s.size <= wanted && (best == null || s.size > best.size)) {
                best = s;
            }
        }
        if (best != null) {
            return best;
        }
        if (slots.size() < MAX_SLOTS) {
            ShareSlot s = new ShareSlot(this, wanted);
            slots.add(s);
            return s;
        }
        for (ShareSlot s : slots) {
            if (s.idle() && (best == null || s.size < best.size)) {
                best = s;
            }
        }
        return best;
    }

    /** Closes consumers that held nothing and were not polled for {@link KafkaSettings#consumerIdle()}. */
    private void closeIdleSlots(long now) {
        long idle = settings.consumerIdle().toMillis();
        for (Iterator<ShareSlot> it = slots.iterator(); it.hasNext(); ) {
            ShareSlot s = it.next();
            if (s.idle() && now - s.lastPollStart > idle) {
                it.remove();
                s.close();
            }
        }
    }

    private void drainInbox() {
        for (Runnable r = inbox.poll(); r != null; r = inbox.poll()) {
            r.run();
        }
    }

    private void waitInbox(long millis) {
        try {
            Runnable r = inbox.poll(Math.max(1, millis), TimeUnit.MILLISECONDS);
            if (r != null) {
                r.run();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }

    private long nextTimer(long now) {
        long next = now + 200;
        for (Held h : leases.values()) {
            next = Math.min(next, h.expiresAt);
        }
        for (Demand d : demands) {
            next = Math.min(next, d.deadline);
        }
        return Math.max(1, next - now);
    }

    /** Leases past their visibility, nacks past their delay and unclaimed records held too long are released. */
    private void expire(long now) {
        for (Iterator<Held> it = leases.values().iterator(); it.hasNext(); ) {
            Held h = it.next();
            if (h.expiresAt <= now) {
                it.remove();
                release(h);
                tally.expired.increment();
            }
        }
        tally.inFlight = leases.size();
        long hold = settings.prefetchHold().toMillis();
        for (ShareSlot s : slots) {
            for (Held h : s.batch) {
                if ((h.state == State.UNCLAIMED && h.since + hold <= now)
                        || (h.state == State.DELAYED && h.expiresAt <= now)) {
                    release(h);
                }
            }
        }
    }

    /** Until when this node needs the record's lock: a lease's or a delayed nack's end, an unclaimed record's hold. */
    private long neededUntil(Held h) {
        return switch (h.state) {
            case LEASED, DELAYED, MOVING -> h.expiresAt;
            case UNCLAIMED -> h.since + settings.prefetchHold().toMillis();
            case DECIDED -> 0;
        };
    }

    /** Renew a lock this long before it runs out (a third of the lock, at least a second). */
    private long renewMargin() {
        return Math.max(1000, settings.lockDuration().toMillis() / 3);
    }

    /** Slots holding a record needed past its lock, whose lock runs out soon, renew what they hold. */
    private void renewDue(long now) {
        long margin = renewMargin();
        for (ShareSlot s : slots) {
            for (Held h : s.batch) {
                long left = lockLeft(h, now);
                if (h.state != State.DECIDED && left < margin && neededUntil(h) > now + left - ACK_MARGIN_MS) {
                    s.renew();
                    break;
                }
            }
        }
    }

    /** A held record whose renewal did not come back: its lock will run out, so its lease is over. */
    void giveUp(Held h, Object why) {
        if (h.state == State.LEASED && leases.remove(h.token) != null) {
            tally.expired.increment();
            LOG.warn("queue '{}': the lease of message {} could not be renewed ({}); it is delivered again",
                    entry.name(), h.record.offset() + 1, why);
        }
        h.state = State.DECIDED;
        h.sent = true;
        tally.inFlight = leases.size();
    }

    /**
     * Releases a record and, with it, the unclaimed records after it: Kafka hands released records out again
     * lowest offset first, so the released one comes back ahead of newer ones, as on one journal.
     */
    private void release(Held released) {
        letGo(released);
        for (ShareSlot s : slots) {
            for (Held h : s.batch) {
                if (h.state == State.UNCLAIMED && h.record.offset() > released.record.offset()) {
                    letGo(h);
                }
            }
        }
    }

    /**
     * Releases a record, unless releasing it would end it. Kafka archives a record released at its group's delivery
     * limit, and writes it to the dead-letter topic only asynchronously, dropping it if that write fails; a dead
     * letter's own group would archive it for good. So a queue's record at its limit is written to the dead-letter
     * queue by this node (and ACCEPTed once that write is confirmed), and a dead letter near its limit is written
     * again to its own topic, as a new record with its headers, before it is ACCEPTed: a dead letter stays until it
     * is redriven or its queue deleted. A write that fails leaves the record to Kafka (RELEASE).
     */
    private void letGo(Held h) {
        int d = delivery(h);
        if (mover == null || (entry.deadLetter() ? d < deliveryLimit - 2 : d < deliveryLimit)) {
            h.decide(AcknowledgeType.RELEASE);
            if (d < deliveryLimit) { // it comes back (Kafka archives a record released at its limit)
                long offset = h.record.offset();
                lowestReleased = lowestReleased < 0 ? offset : Math.min(lowestReleased, offset);
            }
            return;
        }
        h.state = State.MOVING;
        h.expiresAt = System.currentTimeMillis() + MOVE_MS;
        mover.apply(h.record).whenComplete((ok, failure) -> {
            try {
                submit(() -> moved(h, failure));
            } catch (StoreException closing) {
                // the pump stopped: its consumers' close released the record
            }
        });
    }

    private void moved(Held h, Throwable failure) {
        if (h.state != State.MOVING) {
            return; // given up meanwhile (its renewal failed): Kafka decides
        }
        if (failure == null) {
            h.decide(AcknowledgeType.ACCEPT);
            tally.deadLettered.increment();
        } else {
            LOG.error("queue '{}': message {} could not be {} ({}); released to Kafka, which archives it",
                    entry.name(), h.record.offset() + 1, entry.deadLetter() ? "kept in the dead-letter queue"
                            : "written to the dead-letter queue", failure.toString());
            h.decide(AcknowledgeType.RELEASE);
        }
    }

    long lockLeft(Held h, long now) {
        return h.acquiredAt + settings.lockDuration().toMillis() - now;
    }

    /** Hands unclaimed records to waiting requests, oldest record and oldest request first. */
    private void serve(long now) {
        if (demands.isEmpty()) {
            return;
        }
        List<Held> unclaimed = new ArrayList<>();
        for (ShareSlot s : slots) {
            for (Held h : s.batch) {
                if (h.state == State.UNCLAIMED) {
                    unclaimed.add(h);
                }
            }
        }
        if (unclaimed.isEmpty()) {
            return;
        }
        unclaimed.sort(Comparator.comparingLong(h -> h.record.offset()));
        Iterator<Held> next = unclaimed.iterator();
        while (!demands.isEmpty() && next.hasNext()) {
            Demand d = demands.peek();
            if (d.future.isDone()) { // cancelled by the caller
                demands.poll();
                continue;
            }
            List<Held> got = new ArrayList<>();
            while (got.size() < d.max && next.hasNext()) {
                Held h = next.next();
                if (lockLeft(h, now) < 2 * ACK_MARGIN_MS) {
                    continue; // its lock is about to run out: renewed first (renewDue), then handed out
                }
                got.add(h);
            }
            if (got.isEmpty()) {
                break;
            }
            demands.poll();
            if (d.take) {
                List<Message> ms = new ArrayList<>(got.size());
                for (Held h : got) {
                    h.decide(AcknowledgeType.ACCEPT);
                    ms.add(new Message(h.record.offset() + 1, payload.apply(h.record)));
                }
                @SuppressWarnings("unchecked")
                CompletableFuture<TakeResult> f = (CompletableFuture<TakeResult>) d.future;
                TakeResult.Taken taken = new TakeResult.Taken(List.copyOf(ms));
                // Answered once the ACCEPTs are committed: a taken message is never handed out again.
                pending.add(new Pending(slotsOf(got), () -> {
                    tally.taken.add(taken.messages().size());
                    f.complete(taken);
                }, f));
            } else {
                List<Leased> ls = new ArrayList<>(got.size());
                for (Held h : got) {
                    h.state = State.LEASED;
                    h.token = prefix() + h.record.offset() + "." + delivery(h) + "."
                            + Long.toHexString(ThreadLocalRandom.current().nextLong());
                    h.expiresAt = now + d.visibilityMs;
                    leases.put(h.token, h);
                    ls.add(new Leased(h.record.offset() + 1, h.token, delivery(h), payload.apply(h.record)));
                }
                @SuppressWarnings("unchecked")
                CompletableFuture<LeaseResult> f = (CompletableFuture<LeaseResult>) d.future;
                tally.delivered.add(ls.size());
                tally.inFlight = leases.size();
                f.complete(new LeaseResult.Granted(List.copyOf(ls)));
            }
        }
    }

    private static int delivery(Held h) {
        return h.record.deliveryCount().map(Short::intValue).orElse(1);
    }

    private void answerExpiredDemands(long now) {
        for (Iterator<Demand> it = demands.iterator(); it.hasNext(); ) {
            Demand d = it.next();
            if (d.future.isDone()) {
                it.remove();
            } else if (d.deadline <= now && d.polledSince) {
                it.remove();
                d.answerEmpty();
            }
        }
    }

    private void settleNow(Settlement how, List<String> tokens, long durationMs, CompletableFuture<SettleResult> f) {
        long now = System.currentTimeMillis();
        List<SettleResult.Rejected> rejected = new ArrayList<>();
        List<Held> decided = new ArrayList<>();
        int kept = 0; // renewed, or nacked with a delay: held here, nothing to send now
        for (String t : tokens) {
            Held h = leases.get(t);
            if (h == null) {
                // Settled here already (an ack sent again after its answer was lost): as on the journal, unknown.
                // Else a lease of this queue from another node reaches here when that node has gone: its broker
                // lock returns the message, so the lease has expired.
                rejected.add(new SettleResult.Rejected(t, settledHere.containsKey(t) || !ofThisQueue(t)
                        ? SettleResult.Reason.UNKNOWN : SettleResult.Reason.EXPIRED));
                continue;
            }
            if (h.expiresAt <= now || lockLeft(h, now) < ACK_MARGIN_MS) {
                // Past its visibility, or its broker lock may have run out (a renewal came too late): Kafka may have
                // handed the message to another consumer, and would confirm this node's ack of it all the same.
                leases.remove(t);
                release(h);
                tally.expired.increment();
                rejected.add(new SettleResult.Rejected(t, SettleResult.Reason.EXPIRED));
                continue;
            }
            if (how == Settlement.RENEW) {
                h.expiresAt = now + durationMs; // the slot renews the broker's lock as this needs (renewDue)
                kept++;
                continue;
            }
            leases.remove(t);
            settledHere.put(t, Boolean.TRUE);
            if (how == Settlement.ACK) {
                h.decide(AcknowledgeType.ACCEPT);
            } else if (durationMs > 0) {
                h.state = State.DELAYED; // released when the delay has passed (expire), kept locked meanwhile
                h.expiresAt = now + durationMs;
                kept++;
                continue;
            } else {
                release(h);
            }
            decided.add(h);
        }
        tally.inFlight = leases.size();
        if (how == Settlement.NACK && kept > 0) {
            tally.nacked.add(kept);
        }
        SettleResult.Settled result = new SettleResult.Settled(decided.size() + kept, List.copyOf(rejected));
        if (decided.isEmpty()) {
            f.complete(result);
            return;
        }
        // Answered once the commits of the slots holding these records have succeeded.
        Runnable done = () -> {
            (how == Settlement.ACK ? tally.acked : tally.nacked).add(decided.size());
            f.complete(result);
        };
        pending.add(new Pending(slotsOf(decided), done, f));
    }

    private static java.util.Set<ShareSlot> slotsOf(List<Held> hs) {
        java.util.Set<ShareSlot> out = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Held h : hs) {
            out.add(h.slot);
        }
        return out;
    }

    /** An answer that waits for the commits of the slots holding its records. */
    private record Pending(java.util.Set<ShareSlot> slots, Runnable done, CompletableFuture<?> future) {
    }

    private final List<Pending> pending = new ArrayList<>();
    /** Commits failed in a row; while they fail, no slot polls until {@link #pausedUntil}. */
    private int failedCommits;
    private long pausedUntil;
    /** The oldest record released since the last poll that returned records, or -1 (see passOverReleased). */
    private long lowestReleased = -1;

    /**
     * Sends every decided acknowledgement and commits; answers what waited for it, each by the outcome of its own
     * slots' commits. After a failed commit polling pauses, longer each time (0.25 s doubling up to 4 s): every
     * poll counts a delivery against the records it acquires, and while Kafka is failing over (a broker died)
     * requests retried at once would run records up to their delivery limit without any client seeing them.
     */
    private void commitDecided() {
        Map<ShareSlot, Throwable> errors = new java.util.IdentityHashMap<>();
        for (ShareSlot s : slots) {
            Throwable err = s.commit();
            if (err != null) {
                errors.put(s, err);
            }
        }
        for (Pending p : pending) {
            Throwable err = p.slots.stream().map(errors::get).filter(java.util.Objects::nonNull).findFirst().orElse(null);
            if (err == null) {
                p.done.run();
            } else {
                p.future.completeExceptionally(err);
            }
        }
        pending.clear();
        if (errors.isEmpty()) {
            failedCommits = 0;
        } else {
            failedCommits++;
            pausedUntil = System.currentTimeMillis() + Math.min(4000, 250L << Math.min(failedCommits - 1, 4));
        }
    }

    private void failAll(Throwable t) {
        for (Demand d : demands) {
            d.future.completeExceptionally(t);
        }
        demands.clear();
        // Requests submitted while the pump stopped are still in the inbox: run them so they fail too.
        for (Runnable r = inbox.poll(); r != null; r = inbox.poll()) {
            try {
                r.run();
            } catch (RuntimeException ignored) {
                // best effort while closing
            }
        }
        for (Demand d : demands) {
            d.future.completeExceptionally(t);
        }
        demands.clear();
        for (Pending p : pending) {
            p.future.completeExceptionally(t);
        }
    }

    @Override
    public void close() {
        closed = true;
        KafkaShareConsumer<byte[], byte[]> c = polling;
        if (c != null) {
            c.wakeup();
        }
        inbox.add(() -> { });
        try {
            thread.join(15_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------ slots and records

    private final class Demand {
        final boolean take;
        final int max;
        final long visibilityMs;
        final long deadline;
        final CompletableFuture<?> future;
        /** A poll has run since the request came, so an empty answer is a fresh look at the queue. */
        boolean polledSince;

        Demand(boolean take, int max, long visibilityMs, long deadline, CompletableFuture<?> future) {
            this.take = take;
            this.max = max;
            this.visibilityMs = visibilityMs;
            this.deadline = deadline;
            this.future = future;
        }

        void answerEmpty() {
            if (take) {
                @SuppressWarnings("unchecked")
                CompletableFuture<TakeResult> f = (CompletableFuture<TakeResult>) future;
                f.complete(new TakeResult.Taken(List.of()));
            } else {
                @SuppressWarnings("unchecked")
                CompletableFuture<LeaseResult> f = (CompletableFuture<LeaseResult>) future;
                f.complete(new LeaseResult.Granted(List.of()));
            }
        }
    }
}
