package dev.spool.storage.journal;

import dev.spool.storage.Leased;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongSupplier;

/**
 * Which messages of one queue are consumed, leased, waiting to be delivered again, or waiting to move
 * to the dead-letter queue: pure in-memory state, driven by the times it is given (tested without
 * files). The owning queue reads the journal, persists what this table decides (cursor moves, state-log
 * entries) and asks it what to deliver.
 *
 * <p>Every message with an id above the <em>floor</em> that has been <em>read</em> from the journal
 * is exactly one of: done (acknowledged out of order), leased, delayed (released with a delay), ready
 * (to be delivered again), dead (waiting to move to the dead-letter queue), or fresh (read but never
 * delivered, only at the read position). Done messages whose ids are all consecutive from the floor
 * are folded into it, and the floor is what the durable cursor records.
 *
 * <p>Ids need not be consecutive: the next message after the floor is the lowest id read above it.
 *
 * <p>Not thread-safe: the owning queue calls it under its pull lock.
 */
final class LeaseTable {
    /** Why a lease token was refused. */
    enum Refusal { EXPIRED, UNKNOWN }

    /** One delivery under a lease, or a delayed release when {@code nonce} is 0. */
    static final class Lease {
        final long id;
        final int delivery;
        final long nonce;
        long expiresAt;

        Lease(long id, int delivery, long nonce, long expiresAt) {
            this.id = id;
            this.delivery = delivery;
            this.nonce = nonce;
            this.expiresAt = expiresAt;
        }

        /** The opaque token a consumer quotes: id, delivery and a random nonce, in base 36. */
        String token() {
            return Long.toString(id, 36) + "." + Integer.toString(delivery, 36) + "." + Long.toUnsignedString(nonce, 36);
        }
    }

    /** A message whose deliveries ran out, to be moved to the dead-letter queue. */
    record DeadLetter(long id, long index, int deliveries) {
    }

    private final LongSupplier nonces;
    private long floor;
    private long floorIndex;
    private long readId;
    /** Ids read above the floor, with their journal index. */
    private final NavigableMap<Long, Long> read = new TreeMap<>();
    private final TreeSet<Long> done = new TreeSet<>();
    private final TreeSet<Long> ready = new TreeSet<>();
    private final Map<Long, Lease> inflight = new HashMap<>();
    private final PriorityQueue<Lease> expiries = new PriorityQueue<>(Comparator.comparingLong(l -> l.expiresAt));
    private final Map<Long, Integer> deliveries = new HashMap<>();
    private final List<DeadLetter> dead = new ArrayList<>();
    private final int maxDeliveries;

    /**
     * @param floor         the id of the last consumed message (0: none)
     * @param floorIndex    its journal index (or {@link Cursor#NO_INDEX})
     * @param maxDeliveries deliveries after which an expired message is dead-lettered (0: never)
     */
    LeaseTable(long floor, long floorIndex, int maxDeliveries, LongSupplier nonces) {
        this.floor = floor;
        this.floorIndex = floorIndex;
        this.readId = floor;
        this.maxDeliveries = maxDeliveries;
        this.nonces = nonces;
    }

    /** Restores acknowledgements above the floor and delivery counts (recovery). */
    void restore(Iterable<Long> doneIds, Map<Long, Integer> counts) {
        for (long id : doneIds) {
            if (id > floor) {
                done.add(id);
            }
        }
        counts.forEach((id, n) -> {
            if (id > floor && !done.contains(id)) {
                deliveries.merge(id, n, Math::max);
            }
        });
    }

    /** Forgets acknowledgements of ids above {@code lastId} (they name messages never stored). */
    void forgetAbove(long lastId) {
        done.tailSet(lastId, false).clear();
    }

    /** No lease state at all: the queue may take the fast path (read at the floor, move it). */
    boolean simple() {
        return inflight.isEmpty() && ready.isEmpty() && done.isEmpty() && dead.isEmpty() && readId == floor;
    }

    long floor() {
        return floor;
    }

    long floorIndex() {
        return floorIndex;
    }

    long readId() {
        return readId;
    }

    /** Acknowledged ids above the floor. */
    int doneCount() {
        return done.size();
    }

    /** Leased and delayed messages. */
    int inFlight() {
        return inflight.size();
    }

    /** Moves the floor and the read position together (the fast path consumed this entry). */
    void consumed(long id, long index) {
        floor = id;
        floorIndex = index;
        readId = id;
    }

    /**
     * Records an entry read from the journal at the read position.
     *
     * @return true if it is to be delivered; false if it was acknowledged before (a restart)
     */
    boolean read(long id, long index) {
        readId = id;
        read.put(id, index);
        if (done.contains(id)) {
            fold();
            return false;
        }
        return true;
    }

    /** The journal index of a message read and not yet below the floor, or -1. */
    long indexOf(long id) {
        Long i = read.get(id);
        return i == null ? -1 : i;
    }

    /**
     * Moves expired leases and delays back to ready (or to the dead letters).
     *
     * @return how many became ready
     */
    private long expiredLeases;

    int expire(long now) {
        int available = 0;
        while (!expiries.isEmpty() && expiries.peek().expiresAt <= now) {
            Lease l = expiries.poll();
            if (inflight.get(l.id) != l) {
                continue; // acknowledged, renewed or released since
            }
            inflight.remove(l.id);
            if (l.nonce != 0) {
                expiredLeases++; // a lease that timed out, not a nack's delay that ended
            }
            available += makeAvailable(l.id);
        }
        return available;
    }

    /** Leases that timed out without an ack, so far. */
    long expiredLeases() {
        return expiredLeases;
    }

    /** The time of the next lease expiry or delay end, or Long.MAX_VALUE. */
    long nextDeadline() {
        while (!expiries.isEmpty() && inflight.get(expiries.peek().id) != expiries.peek()) {
            expiries.poll();
        }
        return expiries.isEmpty() ? Long.MAX_VALUE : expiries.peek().expiresAt;
    }

    private int makeAvailable(long id) {
        int delivered = deliveries.getOrDefault(id, 0);
        if (maxDeliveries > 0 && delivered >= maxDeliveries) {
            dead.add(new DeadLetter(id, indexOf(id), delivered));
            return 0;
        }
        ready.add(id);
        return 1;
    }

    /** The oldest message to deliver again, removed from ready, or -1 if none. */
    long pollReady() {
        Long id = ready.pollFirst();
        return id == null ? -1 : id;
    }

    /** Hands out a lease on a message just taken (from ready or freshly read). */
    Lease lease(long id, long now, long visibilityMillis) {
        int delivery = deliveries.merge(id, 1, Integer::sum);
        Lease l = new Lease(id, delivery, nonces.getAsLong() | 1L, now + visibilityMillis);
        inflight.put(id, l);
        expiries.add(l);
        return l;
    }

    /**
     * Marks a message consumed for good.
     *
     * @return true if the floor moved (the cursor is to follow it), false if it was recorded above the
     *     floor (the state log is to record it)
     */
    boolean markDone(long id) {
        inflight.remove(id);
        deliveries.remove(id);
        ready.remove(id);
        if (!read.isEmpty() && read.firstKey() == id) {
            floor = id;
            floorIndex = read.pollFirstEntry().getValue();
            fold();
            return true;
        }
        done.add(id);
        return false;
    }

    private void fold() {
        while (!read.isEmpty() && done.contains(read.firstKey())) {
            Map.Entry<Long, Long> e = read.pollFirstEntry();
            done.remove(e.getKey());
            floor = e.getKey();
            floorIndex = e.getValue();
        }
    }

    /** The valid (unexpired, current) lease a token names, or null; {@link #refusal} says why not. */
    Lease find(String token) {
        Token t = Token.parse(token);
        if (t == null) {
            return null;
        }
        Lease l = inflight.get(t.id());
        if (l == null || l.nonce == 0 || l.delivery != t.delivery() || l.nonce != t.nonce()) {
            return null;
        }
        return l;
    }

    /** Why a token that {@link #find} refused was refused. */
    Refusal refusal(String token) {
        Token t = Token.parse(token);
        boolean pending = t != null && t.id() > floor && t.id() <= readId && !done.contains(t.id());
        return pending ? Refusal.EXPIRED : Refusal.UNKNOWN;
    }

    /** Releases a lease: ready at once, or after {@code delayMillis}. @return how many became ready */
    int release(Lease l, long now, long delayMillis) {
        inflight.remove(l.id);
        if (delayMillis <= 0) {
            return makeAvailable(l.id);
        }
        Lease delayed = new Lease(l.id, l.delivery, 0, now + delayMillis);
        inflight.put(l.id, delayed);
        expiries.add(delayed);
        return 0;
    }

    /** Extends a lease to {@code until}. */
    void renew(Lease l, long until) {
        // Out of the heap before its key changes, or the heap's order breaks.
        expiries.remove(l);
        l.expiresAt = until;
        expiries.add(l);
    }

    /** Whether messages wait to be dead-lettered. */
    boolean hasDeadLetters() {
        return !dead.isEmpty();
    }

    /** Takes the messages waiting to be dead-lettered. */
    List<DeadLetter> takeDeadLetters() {
        List<DeadLetter> out = new ArrayList<>(dead);
        dead.clear();
        return out;
    }

    /** A dead letter could not be moved: it is ready here again. */
    void deadLetterFailed(long id) {
        ready.add(id);
    }

    /** Acknowledged ids above the floor (a copy, for snapshots). */
    List<Long> doneIds() {
        return List.copyOf(done);
    }

    /** Delivery counts of unacknowledged messages (a copy, for snapshots). */
    Map<Long, Integer> deliveryCounts() {
        return Map.copyOf(deliveries);
    }

    /** A parsed lease token. */
    private record Token(long id, int delivery, long nonce) {
        /** The token's parts, or null if it is not a token. */
        static Token parse(String token) {
            if (token == null) {
                return null;
            }
            String[] p = token.split("\\.");
            if (p.length != 3) {
                return null;
            }
            try {
                return new Token(Long.parseLong(p[0], 36), Integer.parseInt(p[1], 36), Long.parseUnsignedLong(p[2], 36));
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }
}
