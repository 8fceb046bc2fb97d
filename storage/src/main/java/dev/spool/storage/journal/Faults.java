package dev.spool.storage.journal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Named crash and failure points in the store's write paths, for the fault tests. Off unless the JVM was
 * started with {@code -Dspool.faults=true} (the storage module's tests) or {@code -Dspool.faults.halt=POINT:N}
 * (a child JVM of a crash test, which then halts itself with {@link Runtime#halt} the {@code N}-th time it
 * passes {@code POINT}, as a power cut or kill -9 would stop it there). Off, each point is one read of a
 * constant the compiler folds away.
 *
 * <p>A test arms a point with {@link #fail}: its {@code N}-th pass then throws as the operating system's
 * {@code EIO} would ({@link UncheckedIOException} around an {@link IOException}), and later passes go on.
 *
 * <p>Thread-safe.
 */
final class Faults {
    /** Exit status of a JVM halted at a point. */
    static final int HALT_STATUS = 77;
    static final boolean ENABLED = Boolean.getBoolean("spool.faults") || System.getProperty("spool.faults.halt") != null;

    /** The write paths' named points. */
    enum Point {
        /** Before one entry is appended to the journal. */
        JOURNAL_APPEND,
        /** Between two entries of one batch. */
        BATCH_APPEND,
        /** Half-way through writing the cursor's slot (invalidated, not yet rewritten). */
        CURSOR_WRITE,
        /** Half-way through writing the write head's slot. */
        HEAD_WRITE,
        /** Half-way through writing the id reservation's slot. */
        ID_RESERVATION,
        /** Before one state-log entry is appended. */
        STATE_ENTRY,
        /** Between a snapshot's entries and the sync that makes it durable. */
        SNAPSHOT,
        /** Before the checkpoint file replaces the old one. */
        CHECKPOINT,
        /** Before the journal is forced to the disk. */
        JOURNAL_SYNC,
        /** Before the cursor file is forced to the disk. */
        CURSOR_SYNC,
        /** Before the state log is forced to the disk. */
        STATE_SYNC,
        /** Before each entry a tail rebuild writes into its copy. */
        REBUILD_WRITE,
        /** A tail rebuild's copy is complete, not yet swapped in. */
        REBUILD_BEFORE_SWAP,
        /** A tail rebuild's copy is swapped in, its marker not yet removed. */
        REBUILD_AFTER_SWAP,
        /** Dead letters are in the dead-letter queue, not yet marked done in their queue. */
        DEAD_LETTER_MOVE
    }

    private record Rule(boolean halt, AtomicLong countdown) {
    }

    private static final Map<Point, Rule> RULES = new ConcurrentHashMap<>();

    static {
        String halt = System.getProperty("spool.faults.halt");
        if (halt != null) {
            String[] p = halt.split(":");
            RULES.put(Point.valueOf(p[0].toUpperCase(Locale.ROOT)),
                    new Rule(true, new AtomicLong(p.length > 1 ? Long.parseLong(p[1]) : 1)));
        }
    }

    private Faults() {
    }

    /** Passes a point: halts or throws if it is armed and this is its turn. */
    static void at(Point p) {
        if (!ENABLED || RULES.isEmpty()) {
            return;
        }
        Rule r = RULES.get(p);
        if (r == null || r.countdown().decrementAndGet() != 0) {
            return;
        }
        if (r.halt()) {
            Runtime.getRuntime().halt(HALT_STATUS);
        }
        RULES.remove(p, r);
        throw new UncheckedIOException(new IOException("Input/output error (injected at " + p + ")"));
    }

    /** Makes the {@code nth} pass of {@code p} from now fail with an I/O error (tests, with faults enabled). */
    static void fail(Point p, long nth) {
        if (!ENABLED) {
            throw new IllegalStateException("fault points are off: start the JVM with -Dspool.faults=true");
        }
        RULES.put(p, new Rule(false, new AtomicLong(nth)));
    }

    /** Whether the point is armed and has not fired yet. */
    static boolean armed(Point p) {
        return RULES.containsKey(p);
    }

    /** Disarms every point and stops recording syncs. */
    static void clear() {
        RULES.clear();
        synced = null;
    }

    private static volatile Set<Path> synced;

    /** Records the files and folders forced from now on (see {@link #synced()}). */
    static void recordSyncs() {
        synced = ConcurrentHashMap.newKeySet();
    }

    /** The files and folders forced whole since {@link #recordSyncs()}. */
    static Set<Path> synced() {
        return synced == null ? Set.of() : Set.copyOf(synced);
    }

    /** Notes that a whole file or folder was forced to the disk. */
    static void synced(Path p) {
        Set<Path> s = synced;
        if (ENABLED && s != null) {
            s.add(p.toAbsolutePath().normalize());
        }
    }
}
