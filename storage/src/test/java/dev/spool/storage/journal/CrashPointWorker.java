package dev.spool.storage.journal;

import dev.spool.storage.Blocking;
import dev.spool.storage.Fsync;
import dev.spool.storage.JournalRollCycle;
import dev.spool.storage.MutableClock;
import dev.spool.storage.PushResult;
import dev.spool.storage.QueueOptions;
import dev.spool.storage.StoreConfig;
import dev.spool.storage.StoreException;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Child JVM of {@link CrashPointTest}: runs the fault workload with a second thread pushing alongside, writing every
 * answer to {@code answers.log} as it gets it, until the fault point given by {@code -Dspool.faults.halt} halts the
 * JVM. With the argument {@code open} it only opens the store (a crash point of recovery, such as a tail rebuild);
 * with {@code fill} it stores one message and stops; with {@code sigbus} and {@code rofs} see {@link #sigbus} and
 * {@link #readOnlyMidRun}.
 */
public final class CrashPointWorker {
    private CrashPointWorker() {
    }

    static StoreConfig config(Path dir, Fsync fsync, MutableClock clock) {
        return StoreConfig.defaults(dir.resolve("queues.json")).withRollCycle(JournalRollCycle.HOURLY, clock)
                .withFsync(fsync, Duration.ofMillis(2)).withIdempotencyWindow(Duration.ofHours(1));
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        MutableClock clock = new MutableClock(Instant.parse("2026-12-01T00:00:00Z"));
        if (args[1].equals("open")) {
            JournalQueueStore.open(config(dir, Fsync.NONE, clock)).close();
            System.exit(0);
        }
        if (args[1].equals("fill")) {
            try (JournalQueueStore s = JournalQueueStore.open(config(dir, Fsync.NONE, clock).withMinFreeBytes(0))) {
                s.create("q", new QueueOptions(1000, null));
                Blocking.push(s, "q", "kept".getBytes(StandardCharsets.UTF_8));
            }
            System.exit(0);
        }
        if (args[1].equals("rofs")) {
            readOnlyMidRun(dir, Path.of(args[2]));
        }
        if (args[1].equals("sigbus")) {
            sigbus(dir, clock);
        }
        Fsync fsync = Fsync.valueOf(args[1]);
        try (LedgerFile answers = new LedgerFile(dir.resolve("answers.log"))) {
            JournalQueueStore s = JournalQueueStore.open(config(dir, fsync, clock));
            s.create(FaultWorkload.QUEUE, new QueueOptions(10_000_000, null, 2, null));
            Thread pusher = new Thread(() -> {
                for (int n = 0; ; n++) {
                    String p = "x-" + n;
                    answers.unknown(List.of(p)); // until answered
                    try {
                        PushResult r = Blocking.push(s, FaultWorkload.QUEUE, p.getBytes(StandardCharsets.UTF_8));
                        if (r instanceof PushResult.Stored st) {
                            answers.stored(st.firstId(), p, null);
                        }
                    } catch (StoreException e) {
                        answers.notStored(List.of(p));
                        if (e.code() == StoreException.Code.QUEUE_FAILED) {
                            return;
                        }
                    }
                }
            }, "pusher");
            pusher.setDaemon(true);
            pusher.start();
            FaultWorkload w = new FaultWorkload(s, answers, s::checkpoint, clock::advance);
            for (int i = 0; i < 20_000; i++) {
                w.step(i);
                s.awaitStoreThread();
            }
            s.close();
        }
        System.exit(0); // not halted: the point was never reached
    }

    /**
     * Truncates the journal's cycle file under the store's mapping, pushes into it, and reports on standard output
     * what each push was told; then halts, as a broker process killed after the fault would stop.
     */
    private static void sigbus(Path dir, MutableClock clock) throws Exception {
        JournalQueueStore s = JournalQueueStore.open(config(dir, Fsync.NONE, clock));
        s.create("q", new QueueOptions(1000, null));
        s.create("other", new QueueOptions(1000, null));
        Blocking.push(s, "q", "before".getBytes(StandardCharsets.UTF_8));
        Blocking.push(s, "other", "kept".getBytes(StandardCharsets.UTF_8));
        Path cycle;
        try (var files = java.nio.file.Files.list(dir.resolve("queues/q/journal"))) {
            cycle = files.filter(p -> p.toString().endsWith(".cq4")).findFirst().orElseThrow();
        }
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(cycle.toFile(), "rw")) {
            f.setLength(0);
        }
        for (String p : List.of("after-1", "after-2")) {
            long t0 = System.nanoTime();
            String told;
            try {
                told = String.valueOf(Blocking.push(s, "q", p.getBytes(StandardCharsets.UTF_8)));
            } catch (StoreException e) {
                told = e.code().name();
            }
            System.out.println(p + " " + told + " " + (System.nanoTime() - t0) / 1_000_000);
        }
        System.out.println("other " + Blocking.push(s, "other", "still".getBytes(StandardCharsets.UTF_8)).getClass()
                .getSimpleName());
        System.out.println("failed " + s.failedQueues().keySet());
        System.out.flush();
        Runtime.getRuntime().halt(Faults.HALT_STATUS);
    }

    /**
     * Under {@code fsync: always}: pushes three messages and pulls one, then makes the file system go read-only
     * (by writing to {@code trigger}, ext4's {@code trigger_fs_error}, on a file system mounted with
     * {@code errors=remount-ro}), pulls and pushes again, reporting on standard output what each call was told;
     * then halts.
     */
    private static void readOnlyMidRun(Path dir, Path trigger) throws Exception {
        JournalQueueStore s = JournalQueueStore.open(StoreConfig.defaults(dir.resolve("queues.json"))
                .withFsync(Fsync.ALWAYS, Duration.ofMillis(2)).withMinFreeBytes(0));
        s.create("q", new QueueOptions(1000, null));
        for (String p : List.of("a", "b", "c")) {
            Blocking.push(s, "q", p.getBytes(StandardCharsets.UTF_8));
        }
        System.out.println("pull " + new String(((dev.spool.storage.PullResult.Message) Blocking.pull(s, "q"))
                .payload(), StandardCharsets.UTF_8));
        java.nio.file.Files.writeString(trigger, "test\n");
        for (String call : List.of("pull", "push")) {
            String told;
            try {
                told = call.equals("pull") ? String.valueOf(Blocking.pull(s, "q"))
                        : String.valueOf(Blocking.push(s, "q", "d".getBytes(StandardCharsets.UTF_8)));
            } catch (StoreException e) {
                told = e.code().name();
            }
            System.out.println(call + " " + told);
        }
        System.out.println("failed " + s.failedQueues().keySet());
        System.out.flush();
        Runtime.getRuntime().halt(Faults.HALT_STATUS);
    }

    /** The answers, one line each, written unbuffered so a halt loses none that was given. */
    static final class LedgerFile implements FaultWorkload.Answers, AutoCloseable {
        private final FileOutputStream out;

        LedgerFile(Path file) throws IOException {
            out = new FileOutputStream(file.toFile(), true);
        }

        private synchronized void line(String... fields) {
            try {
                out.write((String.join("\t", fields) + "\n").getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void stored(long id, String payload, String key) {
            line("S", Long.toString(id), payload, key == null ? "" : key);
        }

        @Override
        public void notStored(List<String> payloads) {
            payloads.forEach(p -> line("N", p));
        }

        @Override
        public void unknown(List<String> payloads) {
            payloads.forEach(p -> line("U", p));
        }

        @Override
        public void seen(long id, String payload) {
            line("V", Long.toString(id), payload);
        }

        @Override
        public void consumed(long id, String payload) {
            line("C", Long.toString(id), payload);
        }

        @Override
        public void told(String call, StoreException.Code code) {
            line("T", call, code == null ? "ok" : code.name());
        }

        @Override
        public void attempt(String call, int maxConsumed) {
            line("A", call, Integer.toString(maxConsumed));
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }
}
