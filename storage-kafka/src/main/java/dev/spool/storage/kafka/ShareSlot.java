package dev.spool.storage.kafka;

import dev.spool.storage.StoreException;
import dev.spool.storage.kafka.Held.State;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One share consumer of a queue's {@link Pump}, with the records of its last poll: in explicit mode it must have
 * acknowledged every one of them before it polls again, so it polls for new records only when it holds none, and
 * renews (RENEW, then a poll that returns them) what it holds. Driven by the pump's thread only.
 */
final class ShareSlot {
    /**
     * What a failed commit means to the client: Kafka cannot say whether an acknowledgement it failed to confirm
     * was applied, so a pull answered with it may have taken its message, and an ack may have landed.
     */
    static final String UNCONFIRMED = "Kafka did not confirm the acknowledgement, which may or may not have been"
            + " applied (a pull may have taken its message; an acked lease may be acked): ";

    /** Stands for "no error" in a slot's reported outcomes. */
    private static final Exception NO_ERROR = new Exception("ok");
    /**
     * How long a new consumer may take to join its share group (about 1.3 s with a 500 ms heartbeat): until
     * then an empty poll does not show that the queue is empty.
     */
    private static final long WARM_UP_MS = 3000;
    /** How long a renewed record may take to come back from the poll that must return it. */
    private static final long RENEW_POLL_MS = 3000;
    private static final java.util.concurrent.atomic.AtomicLong SLOT_IDS = new java.util.concurrent.atomic.AtomicLong();
    private static final Logger LOG = LoggerFactory.getLogger(ShareSlot.class);
    private final Pump owner;

    final KafkaShareConsumer<byte[], byte[]> consumer;
    /** Its {@code max.poll.records}: the most records one poll acquires. */
    final int size;
    final List<Held> batch = new ArrayList<>();
    final long created = System.currentTimeMillis();
    /** When the previous poll began. */
    long lastPollStart = created;
    /**
     * When the latest poll that returned records began (the consumer's creation before that): the consumer sends a
     * fetch only once a poll has asked for more records after the last ones arrived, so what it fetches next was
     * sent after that.
     */
    private long fetchingSince = created;
    /** The consumer has joined the group and fetches: an empty poll now means an empty queue. */
    boolean warm;

    ShareSlot(Pump owner, int size) {
        this.owner = owner;
        this.size = size;
        QueueEntry entry = owner.entry;
        Map<String, Object> props = new HashMap<>(owner.consumerProps);
        props.put("max.poll.records", size);
        props.put("group.id", entry.group());
        props.put("client.id", "spool-" + owner.nodeTag + "-" + entry.uuid() + "-" + SLOT_IDS.incrementAndGet());
        consumer = new KafkaShareConsumer<>(props);
        consumer.setAcknowledgementCommitCallback((offsets, ex) -> offsets.values().forEach(set ->
                set.forEach(o -> reported.put(o, ex == null ? NO_ERROR : ex))));
        consumer.subscribe(List.of(entry.topic()));
    }

    /** What the acknowledgement callback said of each offset lately (bounded: only a woken commit reads it). */
    private final Map<Long, Exception> reported = new java.util.LinkedHashMap<>(64, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Exception> eldest) {
            return size() > 10_000;
        }
    };

    /**
     * The outcome of acknowledgements whose commit a wakeup cut short. A {@code wakeup()} meant for a poll can
     * land just after it returned and then fires in the next blocking call, the commit; by then the
     * acknowledgements were handed to the client's network thread, so their outcome arrives through the
     * callback, which the client runs inside its own calls: an empty commit is such a call.
     */
    private Throwable awaitReported(List<Long> offsets) {
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            try {
                consumer.commitSync(Duration.ZERO);
            } catch (WakeupException e) {
                continue;
            } catch (KafkaException e) {
                return new StoreException(StoreException.Code.UNCONFIRMED, UNCONFIRMED + e, e);
            }
            if (reported.keySet().containsAll(offsets)) {
                Throwable err = null;
                for (Long o : offsets) {
                    Exception e = reported.remove(o);
                    if (e != NO_ERROR) {
                        err = new StoreException(StoreException.Code.UNCONFIRMED,
                                UNCONFIRMED + e, e);
                    }
                }
                return err;
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return new StoreException(StoreException.Code.UNCONFIRMED, "Kafka did not confirm an acknowledgement in time",
                null);
    }

    boolean idle() {
        return batch.isEmpty();
    }

    /**
     * Polls for new records (the slot holds none); true if the poll ran on a consumer that has joined its group,
     * so that an empty result means an empty queue.
     *
     * <p>The records' locks began when Kafka answered the fetch that acquired them, which may be long before this
     * poll: the consumer sends a fetch in the background once a poll asks for more records, and
     * keeps it in flight across polls until Kafka answers (or the request times out). A Spool node cut off from
     * Kafka for 12 s got, once healed, the answer to a fetch sent as the cut began: records whose 5 s locks had run
     * out, which another node had since acquired and taken, and which it would have handed out as freshly locked
     * had their acquisition been dated from the previous poll's start (Kafka confirmed its ACCEPT of them too; the
     * drill delivered them twice). So a record is dated at the earliest its fetch can have been sent: the start of
     * the latest poll that returned records (a fetch asked for during that poll, after its records arrived, can be
     * answered after it returned: a CI run once acked a record whose lock had run out when this poll's own start
     * was taken), and at most {@link Pump#answerAgeBound} before the previous poll began (an older answer is
     * dropped by the client). One whose lock may have run out is released, never handed out (see renew).
     */
    boolean poll(Duration timeout) {
        long start = System.currentTimeMillis();
        long acquiredAfter = pollBegins(start);
        ConsumerRecords<byte[], byte[]> rs;
        owner.polling = consumer;
        try {
            if (!owner.inbox.isEmpty() || owner.closed) {
                return false;
            }
            rs = consumer.poll(timeout);
        } catch (WakeupException e) {
            return false;
        } finally {
            owner.polling = null;
        }
        long now = System.currentTimeMillis();
        warm |= !rs.isEmpty() || now - created >= WARM_UP_MS;
        polled(start, rs);
        for (ConsumerRecord<byte[], byte[]> r : rs) {
            batch.add(new Held(this, r, now, acquiredAfter));
        }
        return warm;
    }

    /**
     * Notes that a poll begins at {@code start}; returns the earliest its records can have been acquired (see
     * {@link #poll}).
     */
    private long pollBegins(long start) {
        long acquiredAfter = Math.max(fetchingSince, lastPollStart - owner.answerAgeBound);
        lastPollStart = start;
        return acquiredAfter;
    }

    /** Notes what the poll that began at {@code start} returned. */
    private void polled(long start, ConsumerRecords<byte[], byte[]> rs) {
        if (!rs.isEmpty()) {
            fetchingSince = start;
        }
    }

    /** Acknowledges what is decided and not yet sent, commits, runs what waited; clears a settled batch. */
    Throwable commit() {
        List<Long> sent = new ArrayList<>();
        reported.clear(); // only this commit's outcomes can be awaited
        for (Held h : batch) {
            if (h.state == State.DECIDED && !h.sent) {
                consumer.acknowledge(h.record, h.decided);
                h.sent = true;
                sent.add(h.record.offset());
            }
        }
        Throwable err = sent.isEmpty() ? null : commitSent(sent);
        if (batch.stream().allMatch(h -> h.sent)) {
            batch.clear();
        }
        return err;
    }

    /** Commits the acknowledgements of these offsets, already handed to the consumer; null when confirmed. */
    private Throwable commitSent(List<Long> sent) {
        try {
            Map<TopicIdPartition, Optional<KafkaException>> r = consumer.commitSync(Duration.ofSeconds(30));
            for (Optional<KafkaException> e : r.values()) {
                if (e.isPresent()) {
                    return new StoreException(StoreException.Code.UNCONFIRMED, UNCONFIRMED + e.get(), e.get());
                }
            }
            return null;
        } catch (WakeupException e) {
            return awaitReported(sent);
        } catch (KafkaException e) {
            return new StoreException(StoreException.Code.UNCONFIRMED, UNCONFIRMED + e, e);
        }
    }

    /**
     * RENEWs every record this slot still holds and polls them back: Kafka returns a renewed record from the
     * next poll, and only a record of the last poll can be acknowledged (KAFKA-20458). Their locks start again
     * from the renewal. A record that does not come back is given up; records the poll acquired besides are
     * held unclaimed, as any poll's.
     */
    void renew() {
        long start = System.currentTimeMillis();
        releaseLapsed(start);
        reported.clear();
        List<Long> sent = new ArrayList<>();
        Map<Long, Held> renewing = new HashMap<>();
        for (Held h : batch) {
            if (h.state == State.DECIDED) {
                if (!h.sent) {
                    consumer.acknowledge(h.record, h.decided);
                    h.sent = true;
                    sent.add(h.record.offset());
                }
                continue;
            }
            consumer.acknowledge(h.record, AcknowledgeType.RENEW);
            sent.add(h.record.offset());
            renewing.put(h.record.offset(), h);
        }
        Throwable err = sent.isEmpty() ? null : commitSent(sent);
        batch.clear();
        if (renewing.isEmpty()) {
            // Nothing left to renew (what was held lapsed, or was decided): no poll is owed.
            if (err != null) {
                LOG.debug("queue '{}': committing before a renewal: {}", owner.entry.name(), err.toString());
            }
            return;
        }
        if (err != null) {
            renewing.values().forEach(h -> owner.giveUp(h, err));
            return;
        }
        long acquiredAfter = pollBegins(start);
        ConsumerRecords<byte[], byte[]> rs = ConsumerRecords.empty();
        long deadline = start + RENEW_POLL_MS;
        while (rs.isEmpty() && System.currentTimeMillis() < deadline && !owner.closed) {
            owner.polling = consumer;
            try {
                rs = consumer.poll(Duration.ofMillis(Math.max(1, deadline - System.currentTimeMillis())));
            } catch (WakeupException e) {
                // a request arrived: it waits for this renewal
            } finally {
                owner.polling = null;
            }
        }
        polled(start, rs);
        long now = System.currentTimeMillis();
        for (ConsumerRecord<byte[], byte[]> r : rs) {
            Held h = renewing.remove(r.offset());
            if (h == null) {
                batch.add(new Held(this, r, now, acquiredAfter));
            } else {
                h.record = r;
                h.acquiredAt = start;
                batch.add(h);
            }
        }
        renewing.values().forEach(h -> owner.giveUp(h, "not returned by the poll after its renewal"));
    }

    /**
     * Gives up the records whose lock may have run out (less than {@link Pump#ACK_MARGIN_MS} left by this node's
     * reckoning), RELEASEd in a commit of their own whose outcome does not matter. Kafka 4.4 was seen to confirm an
     * acknowledgement, an ACCEPT and a RENEW alike, of a record whose lock had run out and which another member had
     * acquired and acknowledged since (LateFetchAnswerTest, the drill), and the client hands a RENEWed record back
     * from its next poll: so a record is renewed, handed out or taken only while this node knows it holds its lock.
     */
    private void releaseLapsed(long now) {
        List<Held> lapsed = new ArrayList<>();
        for (Held h : batch) {
            if (h.state != State.DECIDED && owner.lockLeft(h, now) < Pump.ACK_MARGIN_MS) {
                lapsed.add(h);
            }
        }
        if (lapsed.isEmpty()) {
            return;
        }
        for (Held h : lapsed) {
            consumer.acknowledge(h.record, AcknowledgeType.RELEASE);
            owner.giveUp(h, "its lock may have run out before it could be renewed");
        }
        reported.clear();
        Throwable err = commitSent(lapsed.stream().map(h -> h.record.offset()).toList());
        if (err != null) {
            LOG.debug("queue '{}': releasing records whose lock may have run out: {}", owner.entry.name(), err.toString());
        }
    }

    void close() {
        try {
            consumer.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            LOG.debug("closing a consumer of '{}': {}", owner.entry.name(), e.toString());
        }
    }
}
