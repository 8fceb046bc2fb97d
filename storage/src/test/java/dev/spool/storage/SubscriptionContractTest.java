package dev.spool.storage;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static dev.spool.storage.StoreTestSupport.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Named subscriptions and replay (issue 22), run against every backend: each subscription receives every message
 * pushed to its queue, at its own position, with its own leases, and a seek re-delivers from where it points.
 */
public abstract class SubscriptionContractTest {
    protected QueueStore store;
    private final String suffix = "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);

    /** A fresh store. */
    protected abstract QueueStore open() throws Exception;

    /** How long a backend may take to deliver a message that is available (a waiting take's wait). */
    protected Duration patience() {
        return Duration.ofSeconds(10);
    }

    @BeforeEach
    void openStore() throws Exception {
        store = open();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    protected String q(String base) {
        return base + suffix;
    }

    private static SubscriptionSpec from(SubscriptionStart start) {
        return new SubscriptionSpec(start, null, null, false);
    }

    private List<Long> pushAll(String queue, int n, String prefix) {
        List<Long> ids = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            ids.add(StoreTestSupport.storedId(Blocking.push(store, queue, bytes(prefix + i))));
        }
        return ids;
    }

    /** Takes through a subscription until {@code n} messages came (or a take found none within the wait). */
    private List<String> takeN(String queue, String sub, int n) {
        List<String> out = new ArrayList<>();
        while (out.size() < n) {
            TakeResult r = Blocking.join(store.take(queue, sub, n - out.size(), patience()));
            List<Message> got = assertInstanceOf(TakeResult.Taken.class, r).messages();
            if (got.isEmpty()) {
                break;
            }
            got.forEach(m -> out.add(new String(m.payload())));
        }
        return out;
    }

    private List<Leased> leaseN(String queue, String sub, int n, Duration visibility) {
        List<Leased> out = new ArrayList<>();
        while (out.size() < n) {
            LeaseResult r = Blocking.join(store.lease(queue, sub, n - out.size(), visibility, patience()));
            List<Leased> got = assertInstanceOf(LeaseResult.Granted.class, r).messages();
            if (got.isEmpty()) {
                break;
            }
            out.addAll(got);
        }
        return out;
    }

    private static List<String> texts(List<Leased> ls) {
        return ls.stream().map(l -> new String(l.payload())).toList();
    }

    private static List<String> names(String prefix, int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i <= to; i++) {
            out.add(prefix + i);
        }
        return out;
    }

    @Test
    void everySubscriptionShouldReceiveEveryMessageWithoutTakingThemFromTheQueue() {
        String q = q("fan");
        store.create(q, QueueOptions.ofMaxLength(1000));
        assertInstanceOf(SubscriptionStats.class, store.createSubscription(q, "v1", from(new SubscriptionStart.Latest())));
        assertInstanceOf(SubscriptionStats.class, store.createSubscription(q, "v2", from(new SubscriptionStart.Latest())));
        pushAll(q, 20, "m");
        assertEquals(names("m", 1, 20), takeN(q, "v1", 20), "v1 receives all, in order");
        List<Leased> v2 = leaseN(q, "v2", 20, Duration.ofMinutes(1));
        assertEquals(names("m", 1, 20), texts(v2), "v2 receives all, in order, untouched by v1's pulls");
        assertEquals(names("m", 1, 20), takeN(q, null, 20), "the queue's own consumers still receive all");
        SettleResult.Settled acked = (SettleResult.Settled) Blocking.join(store.settle(q, "v2", Settlement.ACK,
                v2.stream().map(Leased::lease).toList(), Duration.ZERO));
        assertEquals(20, acked.accepted());
        SubscriptionStats s = (SubscriptionStats) store.subscription(q, "v2");
        assertEquals(0, s.backlog());
        assertEquals(0, s.inFlight());
        SubscriptionResult.Listed all = (SubscriptionResult.Listed) store.subscription(q, null);
        assertEquals(List.of("v1", "v2"), all.subscriptions().stream().map(SubscriptionStats::name).sorted().toList());
    }

    @Test
    void aSubscriptionShouldStartWhereItWasToldTo() {
        String q = q("start");
        store.create(q, QueueOptions.ofMaxLength(1000));
        List<Long> ids = pushAll(q, 10, "a");
        store.createSubscription(q, "early", from(new SubscriptionStart.Earliest()));
        store.createSubscription(q, "late", from(new SubscriptionStart.Latest()));
        store.createSubscription(q, "at5", from(new SubscriptionStart.AtId(ids.get(4))));
        pushAll(q, 3, "b");
        assertEquals(concat(names("a", 1, 10), names("b", 1, 3)), takeN(q, "early", 13));
        assertEquals(names("b", 1, 3), takeN(q, "late", 3));
        assertEquals(concat(names("a", 5, 10), names("b", 1, 3)), takeN(q, "at5", 9));
        SubscriptionStats late = (SubscriptionStats) store.subscription(q, "late");
        assertEquals(0, late.backlog());
    }

    @Test
    void aSubscriptionFromATimeShouldStartAtTheFirstMessageOfThatSecondOrLater() throws Exception {
        String q = q("time");
        store.create(q, QueueOptions.ofMaxLength(1000));
        pushAll(q, 3, "old");
        // The next second: from_time is kept to the second.
        Instant mark = Instant.ofEpochSecond(Instant.now().getEpochSecond() + 1);
        while (Instant.now().isBefore(mark)) {
            Thread.onSpinWait();
        }
        pushAll(q, 3, "new");
        store.createSubscription(q, "t", from(new SubscriptionStart.FromTime(mark)));
        assertEquals(names("new", 1, 3), takeN(q, "t", 6));
    }

    @Test
    void aSeekShouldRedeliverFromThereAndRefuseTheOldLeases() {
        String q = q("seek");
        store.create(q, QueueOptions.ofMaxLength(1000));
        List<Long> ids = pushAll(q, 10, "m");
        store.createSubscription(q, "r", from(new SubscriptionStart.Earliest()));
        assertEquals(names("m", 1, 10), takeN(q, "r", 10));
        List<Leased> none = leaseN(q, "r", 1, Duration.ofMinutes(1));
        assertEquals(List.of(), none);

        SubscriptionStats s = (SubscriptionStats) store.seek(q, "r", new SubscriptionStart.AtId(ids.get(2)));
        assertEquals(8, s.backlog(), "a seek back to message 3 makes 3..10 its backlog again");
        List<Leased> held = leaseN(q, "r", 2, Duration.ofMinutes(1));
        assertEquals(List.of("m3", "m4"), texts(held));
        store.seek(q, "r", new SubscriptionStart.Earliest());
        SettleResult.Settled stale = (SettleResult.Settled) Blocking.join(store.settle(q, "r", Settlement.ACK,
                held.stream().map(Leased::lease).toList(), Duration.ZERO));
        assertEquals(0, stale.accepted(), "leases of the old position are refused after a seek");
        assertEquals(names("m", 1, 10), texts(leaseN(q, "r", 10, Duration.ofMinutes(1))));
        assertEquals(names("m", 1, 10), takeN(q, null, 10), "a seek takes nothing from the queue's own consumers");
    }

    @Test
    void leasesShouldBeEachSubscriptionsOwn() {
        String q = q("leases");
        store.create(q, QueueOptions.ofMaxLength(1000));
        store.createSubscription(q, "a", from(new SubscriptionStart.Latest()));
        store.createSubscription(q, "b", from(new SubscriptionStart.Latest()));
        pushAll(q, 2, "m");
        List<Leased> a = leaseN(q, "a", 2, Duration.ofMinutes(1));
        List<Leased> b = leaseN(q, "b", 1, Duration.ofMinutes(1));
        SettleResult.Settled wrong = (SettleResult.Settled) Blocking.join(store.settle(q, "b", Settlement.ACK,
                List.of(a.get(1).lease()), Duration.ZERO));
        assertEquals(0, wrong.accepted(), "a lease of subscription a is not b's to ack");
        Blocking.join(store.settle(q, "b", Settlement.NACK, List.of(b.get(0).lease()), Duration.ZERO));
        List<Leased> again = leaseN(q, "b", 2, Duration.ofMinutes(1));
        assertEquals(List.of("m1", "m2"), texts(again), "b's nacked message comes back to b, first");
        assertEquals(2, again.get(0).delivery(), "with b's own delivery count");
        assertEquals(1, a.get(0).delivery());
    }

    @Test
    void aPausedSubscriptionShouldAnswerEmptyUntilResumed() {
        String q = q("pause");
        store.create(q, QueueOptions.ofMaxLength(1000));
        store.createSubscription(q, "p", new SubscriptionSpec(new SubscriptionStart.Latest(), null, null, true));
        pushAll(q, 2, "m");
        TakeResult.Taken t = (TakeResult.Taken) Blocking.join(store.take(q, "p", 10, Duration.ZERO));
        assertEquals(List.of(), t.messages());
        assertTrue(((SubscriptionStats) store.subscription(q, "p")).paused());
        store.pause(q, "p", false);
        assertEquals(names("m", 1, 2), takeN(q, "p", 2));
    }

    @Test
    void unknownNamesAndBadStartsShouldBeAnsweredAsSuch() {
        String q = q("names");
        store.create(q, QueueOptions.ofMaxLength(1000));
        pushAll(q, 3, "m");
        assertInstanceOf(NoSuchQueue.class, store.createSubscription(q("nope"), "s", from(new SubscriptionStart.Latest())));
        assertInstanceOf(NoSuchSubscription.class, store.subscription(q, "s"));
        assertInstanceOf(NoSuchSubscription.class, Blocking.join(store.take(q, "s", 1, Duration.ZERO)));
        assertInstanceOf(NoSuchSubscription.class, Blocking.join(store.lease(q, "s", 1, Duration.ofSeconds(5),
                Duration.ZERO)));
        assertInstanceOf(NoSuchSubscription.class, store.deleteSubscription(q, "s"));
        assertInstanceOf(SubscriptionResult.BadStart.class, store.createSubscription(q, "s",
                from(new SubscriptionStart.AtId(99))));
        assertInstanceOf(SubscriptionStats.class, store.createSubscription(q, "s", from(new SubscriptionStart.Latest())));
        assertInstanceOf(SubscriptionResult.Exists.class, store.createSubscription(q, "s",
                from(new SubscriptionStart.Earliest())));
        assertInstanceOf(SubscriptionResult.BadStart.class, store.seek(q, "s", new SubscriptionStart.AtId(99)));
        assertInstanceOf(DeleteResult.Deleted.class, store.deleteSubscription(q, "s"));
        assertInstanceOf(NoSuchSubscription.class, Blocking.join(store.take(q, "s", 1, Duration.ZERO)));
    }

    @Test
    void aSubscriptionsDeadLettersShouldGoToItsOwnDeadLetterQueue() {
        String q = q("dlq");
        store.create(q, QueueOptions.ofMaxLength(1000));
        store.createSubscription(q, "d", new SubscriptionSpec(new SubscriptionStart.Latest(), 1, null, false));
        pushAll(q, 1, "m");
        List<Leased> l = leaseN(q, "d", 1, Duration.ofMinutes(1));
        Blocking.join(store.settle(q, "d", Settlement.NACK, List.of(l.get(0).lease()), Duration.ZERO));
        String dlq = SubscriptionSpec.defaultDeadLetterQueue(q, "d");
        List<String> dead = new ArrayList<>();
        long until = System.nanoTime() + patience().toNanos();
        while (dead.isEmpty() && System.nanoTime() < until) {
            TakeResult r = Blocking.join(store.take(dlq, 1, Duration.ofMillis(200)));
            if (r instanceof TakeResult.Taken t) {
                t.messages().forEach(m -> dead.add(new String(m.payload())));
            }
        }
        assertEquals(1, dead.size(), "the dead letter is in " + dlq);
        assertTrue(dead.get(0).contains("m1"));
        assertEquals(List.of("m1"), takeN(q, null, 1), "the queue's own consumers still have it");
    }

    @Test
    void aRedriveThroughASubscriptionShouldReachThatSubscriptionAlone() {
        String q = q("redrive");
        store.create(q, QueueOptions.ofMaxLength(1000));
        store.createSubscription(q, "d", new SubscriptionSpec(new SubscriptionStart.Latest(), 1, null, false));
        store.createSubscription(q, "other", from(new SubscriptionStart.Latest()));
        pushAll(q, 2, "m");
        List<Leased> l = leaseN(q, "d", 2, Duration.ofMinutes(1));
        Blocking.join(store.settle(q, "d", Settlement.NACK, List.of(l.get(0).lease()), Duration.ZERO));
        Blocking.join(store.settle(q, "d", Settlement.ACK, List.of(l.get(1).lease()), Duration.ZERO));
        String dlq = SubscriptionSpec.defaultDeadLetterQueue(q, "d");
        long until = System.nanoTime() + patience().toNanos();
        long moved = 0;
        while (moved == 0 && System.nanoTime() < until) {
            RedriveResult r = store.redrive(q, "d");
            moved = assertInstanceOf(RedriveResult.Moved.class, r).count();
        }
        assertEquals(1, moved, "the dead letter moved back from " + dlq);
        assertEquals(List.of("m1"), texts(leaseN(q, "d", 10, Duration.ofMinutes(1))), "d receives it again");
        assertEquals(names("m", 1, 2), takeN(q, "other", 10), "the other subscription receives nothing twice");
        assertEquals(names("m", 1, 2), takeN(q, null, 10), "nor do the queue's own consumers");
        assertEquals(List.of(), takeN(q, "other", 1));
        assertInstanceOf(NoSuchSubscription.class, store.redrive(q, "nope"));
        // Not after a replay either, nor for a subscription made afterwards from the start.
        store.seek(q, "other", new SubscriptionStart.Earliest());
        assertEquals(names("m", 1, 2), takeN(q, "other", 10), "a replay does not bring d's redriven message");
        store.createSubscription(q, "late", from(new SubscriptionStart.Earliest()));
        assertEquals(names("m", 1, 2), takeN(q, "late", 10));
    }

    @Test
    void theQueuesOwnRedriveShouldNotReachItsSubscriptionsAgain() {
        String q = q("ownredrive");
        store.create(q, new QueueOptions(1000, null, 1, null));
        store.createSubscription(q, "s", from(new SubscriptionStart.Latest()));
        pushAll(q, 2, "m");
        List<Leased> l = leaseN(q, null, 2, Duration.ofMinutes(1));
        Blocking.join(store.settle(q, Settlement.NACK, List.of(l.get(0).lease()), Duration.ZERO));
        Blocking.join(store.settle(q, Settlement.ACK, List.of(l.get(1).lease()), Duration.ZERO));
        assertEquals(names("m", 1, 2), takeN(q, "s", 10));
        long until = System.nanoTime() + patience().toNanos();
        long moved = 0;
        while (moved == 0 && System.nanoTime() < until) {
            moved = ((RedriveResult.Moved) store.redrive(q)).count();
        }
        assertEquals(1, moved);
        assertEquals(1, ((QueueStats) store.stats(q)).depth(), "the queue's own backlog counts it");
        assertEquals(List.of("m1"), texts(leaseN(q, null, 10, Duration.ofMinutes(1))), "its own consumers get it back");
        assertEquals(List.of(), takeN(q, "s", 10), "the subscription, which received it, does not get it twice");
        assertEquals(0, ((SubscriptionStats) store.subscription(q, "s")).backlog());
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
