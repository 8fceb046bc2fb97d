package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.ChildJvm;
import dev.spool.storage.Fsync;
import dev.spool.storage.MutableClock;
import dev.spool.storage.PullResult;
import dev.spool.storage.QueueOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Crash points: a child JVM runs the fault workload with a second thread pushing alongside and halts itself
 * ({@link Runtime#halt}, as kill -9 or a power cut of the process would stop it) at the n-th pass of one named point
 * of the write paths; the store is reopened and the contract checked from what the child recorded of its answers:
 * nothing acknowledged lost, nothing consumed delivered again, no id reused, no torn or void entry delivered.
 */
@Timeout(300)
class CrashPointTest {
    @TempDir
    Path dir;

    record Case(Faults.Point point, Fsync fsync, int maxPass) {
        @Override
        public String toString() {
            return point + " (fsync " + fsync.name().toLowerCase() + ")";
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case(Faults.Point.JOURNAL_APPEND, Fsync.NONE, 300),
                new Case(Faults.Point.BATCH_APPEND, Fsync.NONE, 40),
                new Case(Faults.Point.HEAD_WRITE, Fsync.NONE, 300),
                new Case(Faults.Point.CURSOR_WRITE, Fsync.NONE, 60),
                new Case(Faults.Point.ID_RESERVATION, Fsync.NONE, 2),
                new Case(Faults.Point.STATE_ENTRY, Fsync.NONE, 60),
                new Case(Faults.Point.SNAPSHOT, Fsync.NONE, 3),
                new Case(Faults.Point.CHECKPOINT, Fsync.NONE, 4),
                new Case(Faults.Point.DEAD_LETTER_MOVE, Fsync.NONE, 3),
                new Case(Faults.Point.JOURNAL_SYNC, Fsync.ALWAYS, 40),
                new Case(Faults.Point.CURSOR_SYNC, Fsync.ALWAYS, 20),
                new Case(Faults.Point.STATE_SYNC, Fsync.ALWAYS, 10));
    }

    private Process start(String point, long pass, String mode) throws IOException {
        List<String> cmd = ChildJvm.command(CrashPointWorker.class.getName(), dir.toString(), mode);
        cmd.add(1, "-Dspool.faults.halt=" + point + ":" + pass);
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static void awaitHalt(Process p, String what) throws InterruptedException {
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), what + ": the child did not stop");
        assertEquals(Faults.HALT_STATUS, p.exitValue(), what + ": the child was not halted at its point (never "
                + "reached?)");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theContractShouldHoldAfterAHaltAtEveryCrashPoint(Case c) throws Exception {
        long seed = new Random().nextLong();
        int pass = 1 + new Random(seed).nextInt(c.maxPass());
        String what = c + " at pass " + pass + " (seed " + seed + ")";
        awaitHalt(start(c.point().name(), pass, c.fsync().name()), what);
        FaultLedger ledger = FaultLedger.replay(Files.readAllLines(dir.resolve("answers.log")));
        MutableClock clock = new MutableClock(Instant.parse("2026-12-01T00:00:00Z"));
        FaultLedger.Restart r;
        try (JournalQueueStore s = JournalQueueStore.open(CrashPointWorker.config(dir, Fsync.NONE, clock))) {
            if (!s.list().contains(FaultWorkload.QUEUE)) {
                // Halted before the create was answered: nothing was stored.
                assertTrue(ledger.stored.isEmpty(), what + ": pushes answered to a queue that is gone");
                return;
            }
            r = ledger.checkRestart(s);
        } catch (AssertionError e) {
            throw new AssertionError(what + ": " + e.getMessage(), e);
        }
        System.out.println("CRASH-TABLE | " + what + " | " + ledger.stored.size() + " acknowledged pushes, "
                + ledger.consumed.size() + " consumed; " + r.summary() + "; contract held");
    }

    @Test
    void aTailRebuildHaltedBeforeOrAfterItsSwapShouldBeFinishedByTheNextStart() throws Exception {
        for (Faults.Point point : List.of(Faults.Point.REBUILD_BEFORE_SWAP, Faults.Point.REBUILD_AFTER_SWAP)) {
            Path at = dir.resolve(point.name());
            MutableClock clock = new MutableClock(Instant.parse("2026-12-01T00:00:00Z"));
            try (JournalQueueStore s = JournalQueueStore.open(CrashPointWorker.config(at, Fsync.NONE, clock))) {
                s.create("q", QueueOptions.ofMaxLength(1000));
                for (int i = 1; i <= 100; i++) {
                    Blocking.push(s, "q", String.format("msg-%06d|payload", i).getBytes(StandardCharsets.UTF_8));
                }
            }
            Path cycle = CorruptionTest.onlyCycleFile(at.resolve("queues/q/journal"));
            long torn = CorruptionTest.offsetOf(cycle, "msg-000090|");
            try (RandomAccessFile f = new RandomAccessFile(cycle.toFile(), "rw")) {
                f.setLength(torn + 5);
            }
            List<String> cmd = ChildJvm.command(CrashPointWorker.class.getName(), at.toString(), "open");
            cmd.add(1, "-Dspool.faults.halt=" + point.name() + ":1");
            awaitHalt(new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start(), point.name());
            List<String> got = new ArrayList<>();
            try (JournalQueueStore s = JournalQueueStore.open(CrashPointWorker.config(at, Fsync.NONE, clock))) {
                while (Blocking.pull(s, "q") instanceof PullResult.Message m) {
                    got.add(new String(m.payload(), StandardCharsets.UTF_8));
                }
            }
            List<String> expected = new ArrayList<>();
            for (int i = 1; i <= 89; i++) {
                expected.add(String.format("msg-%06d|payload", i));
            }
            assertEquals(expected, got, point + ": every intact entry, once");
        }
    }
}
