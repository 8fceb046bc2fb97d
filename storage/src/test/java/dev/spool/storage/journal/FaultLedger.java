package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.PullResult;
import dev.spool.storage.PushResult;
import dev.spool.storage.StoreException;
import dev.spool.storage.TakeResult;

import java.util.ArrayList;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a client of the store was told, kept as the client would keep it, and the contract checked against what the
 * store delivers after a restart: nothing acknowledged is lost, nothing consumed is delivered again, no id names
 * two messages, and nothing a push was told was not stored (nor any torn entry) is ever delivered.
 */
final class FaultLedger implements FaultWorkload.Answers {
    /** Ids answered as stored, with their payloads. */
    final Map<Long, String> stored = new HashMap<>();
    /** The payloads of {@link #stored}, for lookups by payload in constant time (a check of 100k is linear). */
    private final Set<String> storedPayloads = new HashSet<>();
    /** Ids whose pull or ack was answered. */
    final Set<Long> consumed = new HashSet<>();
    /** Payloads of pushes answered "not stored". */
    final Set<String> notStored = new HashSet<>();
    /** Payloads of pushes whose outcome was answered as unknown. */
    final Set<String> unknown = new HashSet<>();
    /** Every id seen delivered, with its payload. */
    final Map<Long, String> seen = new HashMap<>();
    /** What each kind of call was told: "ok" or a code. */
    final Map<String, Set<String>> told = new HashMap<>();
    private final Map<String, Long> keys = new HashMap<>();
    /** Messages the call in flight (started, not answered) may have consumed unrecorded. */
    private int inFlight;

    @Override
    public void stored(long id, String payload, String key) {
        String before = stored.putIfAbsent(id, payload);
        storedPayloads.add(payload);
        if (before != null && !before.equals(payload)) {
            // A keyed duplicate answers the original id: it must name the original message.
            assertTrue(key != null && keys.get(key) == id, "id " + id + " names both '" + before + "' and '"
                    + payload + "'");
        }
        if (key != null) {
            keys.putIfAbsent(key, id);
        }
    }

    @Override
    public void notStored(List<String> payloads) {
        notStored.addAll(payloads);
    }

    @Override
    public void unknown(List<String> payloads) {
        unknown.addAll(payloads);
    }

    @Override
    public void seen(long id, String payload) {
        String before = seen.putIfAbsent(id, payload);
        assertTrue(before == null || before.equals(payload), "id " + id + " delivered as '" + before + "' and '"
                + payload + "'");
        assertFalse(notStored.contains(payload) && !storedPayloads.contains(payload),
                "'" + payload + "' was answered as not stored, yet delivered");
    }

    @Override
    public void consumed(long id, String payload) {
        seen(id, payload);
        consumed.add(id);
    }

    @Override
    public void attempt(String call, int maxConsumed) {
        inFlight = maxConsumed;
    }

    @Override
    public void told(String call, StoreException.Code code) {
        inFlight = 0;
        told.computeIfAbsent(call, c -> new TreeSet<>()).add(code == null ? "ok" : code.name());
    }

    /**
     * Checks what the restarted store delivered: {@code after} (id to payload, from the queue) and the payloads of
     * its dead-letter queue.
     */
    void check(Map<Long, String> after, Set<String> deadLetters, long nextId) {
        for (Map.Entry<Long, String> e : after.entrySet()) {
            assertFalse(consumed.contains(e.getKey()), "id " + e.getKey() + " was consumed before the restart and "
                    + "delivered again");
            seen(e.getKey(), e.getValue());
            assertTrue(storedPayloads.contains(e.getValue()) || unknown.contains(e.getValue()),
                    "delivered '" + e.getValue() + "' (id " + e.getKey() + ") was never answered as stored or unknown");
            String expected = stored.get(e.getKey());
            assertTrue(expected == null || expected.equals(e.getValue()), "id " + e.getKey() + " was '" + expected
                    + "', delivered as '" + e.getValue() + "'");
        }
        for (String d : deadLetters) {
            assertTrue(storedPayloads.contains(d) || unknown.contains(d), "dead letter '" + d + "' was never stored");
        }
        List<Long> lost = new ArrayList<>();
        for (Map.Entry<Long, String> e : stored.entrySet()) {
            boolean kept = consumed.contains(e.getKey()) || after.containsKey(e.getKey())
                    || deadLetters.contains(e.getValue());
            if (!kept) {
                lost.add(e.getKey());
            }
        }
        // A call in flight at a crash may have consumed its messages without its answer being recorded.
        assertTrue(lost.size() <= inFlight, "acknowledged pushes lost: " + lost + " (" + inFlight
                + " may have been consumed by the call in flight)");
        long maxId = new TreeSet<>(stored.keySet()).stream().mapToLong(Long::longValue).max().orElse(0);
        long maxSeen = seen.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
        assertTrue(nextId > Math.max(maxId, maxSeen), "the next id " + nextId + " reuses one (max so far "
                + Math.max(maxId, maxSeen) + ")");
    }

    /** One line for the fault table: what each call was told. */
    String toldLine() {
        StringBuilder sb = new StringBuilder();
        told.forEach((call, codes) -> {
            Set<String> notOk = new TreeSet<>(codes);
            notOk.remove("ok");
            if (!notOk.isEmpty()) {
                sb.append(sb.length() == 0 ? "" : "; ").append(call).append(": ").append(String.join(", ", notOk));
            }
        });
        return sb.length() == 0 ? "nothing (the failure was absorbed)" : sb.toString();
    }

    /** A ledger rebuilt from the lines a crashed child wrote ({@link CrashPointWorker.LedgerFile}). */
    static FaultLedger replay(List<String> lines) {
        FaultLedger l = new FaultLedger();
        for (String line : lines) {
            String[] f = line.split("\t", -1);
            switch (f[0]) {
                case "S" -> l.stored(Long.parseLong(f[1]), f[2], f[3].isEmpty() ? null : f[3]);
                case "N" -> l.notStored(List.of(f[1]));
                case "U" -> l.unknown(List.of(f[1]));
                case "V" -> l.seen(Long.parseLong(f[1]), f[2]);
                case "C" -> l.consumed(Long.parseLong(f[1]), f[2]);
                case "T" -> l.told(f[1], f[2].equals("ok") ? null : StoreException.Code.valueOf(f[2]));
                case "A" -> l.attempt(f[1], Integer.parseInt(f[2]));
                default -> throw new IllegalArgumentException("bad ledger line: " + line);
            }
        }
        return l;
    }

    /** What the restarted store delivered, drained: see {@link #checkRestart}. */
    record Restart(Map<Long, String> after, Set<String> deadLetters, long nextId) {
        String summary() {
            return "after the restart " + after.size() + " delivered, " + deadLetters.size() + " dead letters";
        }
    }

    /**
     * Drains the restarted store's queue and its dead-letter queue, pushes one more message, and checks the contract
     * against what the client was told.
     */
    Restart checkRestart(JournalQueueStore s) {
        assertTrue(s.failedQueues().isEmpty(), "a restart re-checks every queue");
        Map<Long, String> after = new HashMap<>();
        Set<String> deadLetters = new HashSet<>();
        while (Blocking.join(s.take(FaultWorkload.QUEUE, 100)) instanceof TakeResult.Taken t
                && !t.messages().isEmpty()) {
            t.messages().forEach(m -> after.put(m.id(), new String(m.payload(), StandardCharsets.UTF_8)));
        }
        String dlq = FaultWorkload.QUEUE + ".dlq";
        if (s.list().contains(dlq)) {
            while (Blocking.pull(s, dlq) instanceof PullResult.Message m) {
                deadLetters.add(new String(m.payload(), StandardCharsets.UTF_8));
            }
        }
        long nextId = ((PushResult.Stored) Blocking.push(s, FaultWorkload.QUEUE,
                "after".getBytes(StandardCharsets.UTF_8))).firstId();
        check(after, deadLetters, nextId);
        return new Restart(after, deadLetters, nextId);
    }
}
