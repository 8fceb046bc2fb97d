package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.LeaseResult;
import dev.spool.storage.Leased;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueStore;
import dev.spool.storage.Settlement;
import dev.spool.storage.StoreException;
import dev.spool.storage.TakeResult;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The fault suite's workload: single and batch pushes (some keyed), destructive pulls, leases acknowledged out of
 * order, nacks and expiries that dead-letter, checkpoints. Each answer is handed to a {@link FaultLedger} as the
 * client would see it, so the ledger can check the store's contract after a restart whatever failed.
 */
final class FaultWorkload {
    static final String QUEUE = "q";

    /** Where the answers go: a {@link FaultLedger}, or a file a crashing child JVM writes them to. */
    interface Answers {
        void stored(long id, String payload, String key);

        void notStored(List<String> payloads);

        void unknown(List<String> payloads);

        void seen(long id, String payload);

        void consumed(long id, String payload);

        void told(String call, StoreException.Code code);

        /** A call that may consume up to {@code maxConsumed} messages starts (its answer comes with {@link #told}). */
        void attempt(String call, int maxConsumed);
    }

    private final QueueStore store;
    private final Answers ledger;
    private final Runnable checkpoint;
    private final Consumer<Duration> passTime;
    private List<Leased> lastLeases = List.of();
    private final java.util.Set<Long> abandoned = new java.util.HashSet<>();
    private int settleRounds;

    /**
     * @param checkpoint takes a checkpoint (with its snapshots)
     * @param passTime   moves the store's clock on (lets leases expire)
     */
    FaultWorkload(QueueStore store, Answers ledger, Runnable checkpoint, Consumer<Duration> passTime) {
        this.store = store;
        this.ledger = ledger;
        this.checkpoint = checkpoint;
        this.passTime = passTime;
    }

    /** Runs operation {@code i} (a fixed cycle of twelve). */
    void step(int i) {
        switch (i % 12) {
            case 0, 5 -> push(List.of("p-" + i), i % 24 == 0 ? Arrays.asList("k-" + i) : null);
            case 1, 6 -> push(List.of("b-" + i + "-1", "b-" + i + "-2", "b-" + i + "-3"),
                    i % 24 == 1 ? Arrays.asList("kb-" + i, null, "kb-" + i) : null);
            case 2, 7 -> pull(2);
            case 3, 9 -> lease();
            case 4, 10 -> settleLastLeases();
            case 8 -> passTime.accept(Duration.ofSeconds(2)); // right before a lease: expired leases go to it
            case 11 -> {
                try {
                    checkpoint.run();
                } catch (StoreException e) {
                    ledger.told("checkpoint", e.code());
                }
            }
            default -> throw new IllegalStateException();
        }
    }

    private void push(List<String> payloads, List<String> keys) {
        List<byte[]> bytes = payloads.stream().map(p -> p.getBytes(StandardCharsets.UTF_8)).toList();
        ledger.unknown(payloads); // until answered: a crash now leaves its outcome unknown
        try {
            PushResult r = Blocking.join(store.append(QUEUE, bytes, keys));
            if (r instanceof PushResult.Stored s) {
                for (int j = 0; j < s.count(); j++) {
                    ledger.stored(s.id(j), payloads.get(j), keys == null ? null : keys.get(j));
                }
                ledger.told("push", null);
            } else {
                ledger.notStored(payloads);
                ledger.told("push", null);
            }
        } catch (StoreException e) {
            if (e.code() == StoreException.Code.SYNC_FAILED) {
                ledger.unknown(payloads);
            } else {
                ledger.notStored(payloads);
            }
            ledger.told("push", e.code());
        }
    }

    private void pull(int max) {
        ledger.attempt("pull", max);
        try {
            TakeResult r = Blocking.join(store.take(QUEUE, max));
            if (r instanceof TakeResult.Taken t) {
                t.messages().forEach(m -> ledger.consumed(m.id(), new String(m.payload(), StandardCharsets.UTF_8)));
            }
            ledger.told("pull", null);
        } catch (StoreException e) {
            ledger.told("pull", e.code());
        }
    }

    private void lease() {
        try {
            if (Blocking.join(store.lease(QUEUE, 2, Duration.ofSeconds(1))) instanceof LeaseResult.Granted g) {
                lastLeases = g.messages();
                lastLeases.forEach(l -> ledger.seen(l.id(), new String(l.payload(), StandardCharsets.UTF_8)));
            }
            ledger.told("lease", null);
        } catch (StoreException e) {
            ledger.told("lease", e.code());
        }
    }

    /**
     * Acks the second lease before the first (out of order); of the first ones, nacks some and leaves some to
     * expire (twice delivered, they are dead-lettered).
     */
    private void settleLastLeases() {
        List<Leased> leases = new ArrayList<>(lastLeases);
        lastLeases = List.of();
        for (int j = leases.size() - 1; j >= 0; j--) {
            Leased l = leases.get(j);
            int round = j == 0 ? settleRounds++ : -1;
            if (j == 0 && (abandoned.contains(l.id()) || round % 3 == 1)) {
                abandoned.add(l.id()); // left to expire, every time it comes back
                continue;
            }
            boolean nack = round % 3 == 2;
            ledger.attempt(nack ? "nack" : "ack", nack ? 0 : 1);
            try {
                var r = Blocking.join(store.settle(QUEUE, nack ? Settlement.NACK : Settlement.ACK, List.of(l.lease()),
                        Duration.ZERO));
                if (!nack && r instanceof dev.spool.storage.SettleResult.Settled s && s.accepted() == 1) {
                    ledger.consumed(l.id(), new String(l.payload(), StandardCharsets.UTF_8));
                }
                ledger.told(nack ? "nack" : "ack", null);
            } catch (StoreException e) {
                ledger.told(nack ? "nack" : "ack", e.code());
            }
        }
    }
}
