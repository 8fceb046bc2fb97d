package dev.spool.storage;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link JournalQueueStore} is laid out and synced.
 *
 * @param checkpointFile   the checkpoint file; each queue's journal lives in a folder beside it
 * @param checkpointPeriod how often the checkpoint is written (it is also written on close)
 * @param fsync            the sync policy, see {@link Fsync}
 * @param fsyncInterval    the group-commit period of {@link Fsync#INTERVAL}
 * @param rollCycle        how long one journal file covers; consumed files are deleted whole
 * @param clock            the time source for roll cycles, leases and creation times (tests move it)
 * @param idempotencyWindow how long an idempotency key is remembered
 * @param syncDelay        runs before every sync the store makes (group commits, checkpoints, queue creation):
 *                         {@link SyncDelay#NONE} except in tests and drills that simulate a slow disk
 * @param minFreeBytes     the free-space floor: pushes are refused (disk full) rather than go under it
 * @param observer         told of every sync and checkpoint with its duration (metrics); {@link StoreObserver#NONE}
 */
public record StoreConfig(Path checkpointFile, Duration checkpointPeriod, Fsync fsync, Duration fsyncInterval,
                          JournalRollCycle rollCycle, Clock clock, Duration idempotencyWindow, SyncDelay syncDelay,
                          long minFreeBytes, StoreObserver observer, Retention retention) {

    /** Something to run before each sync, to simulate a slow disk. */
    @FunctionalInterface
    public interface SyncDelay {
        /** No delay. */
        SyncDelay NONE = () -> { };

        void beforeSync();

        /** Sleeps {@code d} before each sync (the syncing thread's own time, never a caller's). */
        static SyncDelay of(Duration d) {
            return () -> {
                try {
                    Thread.sleep(d.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
        }
    }

    /** Checkpoints are cheap (one small file); every 30 s bounds how stale the metadata snapshot gets. */
    public static final Duration DEFAULT_CHECKPOINT_PERIOD = Duration.ofSeconds(30);
    /**
     * No explicit sync by default: a push survives a crash of the broker process (kill -9) but not
     * power loss, at full speed. INTERVAL or ALWAYS trade throughput and latency for power-loss safety.
     */
    public static final Fsync DEFAULT_FSYNC = Fsync.NONE;
    /** Group commit every 5 ms: adds at most about that much latency to a push. */
    public static final Duration DEFAULT_FSYNC_INTERVAL = Duration.ofMillis(5);
    /** Hourly files: disk is reclaimed within about an hour of consumption, 2^32 messages per file. */
    public static final JournalRollCycle DEFAULT_ROLL_CYCLE = JournalRollCycle.HOURLY;
    /** An hour: longer than any sensible client retry loop, short enough to bound the key map. */
    public static final Duration DEFAULT_IDEMPOTENCY_WINDOW = Duration.ofHours(1);
    /**
     * 128 MiB: room for acks, checkpoints and the state log after pushes stop, and far more than the
     * fastest pushes write between two samples of the free space (every 50 ms).
     */
    public static final long DEFAULT_MIN_FREE_BYTES = 128L << 20;
    /** At most this many keys are remembered per queue; the oldest are forgotten first. */
    public static final int MAX_IDEMPOTENCY_KEYS = 1_000_000;

    public StoreConfig {
        Objects.requireNonNull(checkpointFile, "checkpointFile");
        Objects.requireNonNull(fsync, "fsync");
        Objects.requireNonNull(rollCycle, "rollCycle");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(syncDelay, "syncDelay");
        Objects.requireNonNull(observer, "observer");
        Objects.requireNonNull(retention, "retention");
        if (minFreeBytes < 0) {
            throw new IllegalArgumentException("min_free_bytes must be >= 0, was " + minFreeBytes);
        }
        if (checkpointPeriod == null || checkpointPeriod.isNegative() || checkpointPeriod.isZero()) {
            throw new IllegalArgumentException("save_period_time must be > 0, was " + checkpointPeriod);
        }
        if (idempotencyWindow == null || idempotencyWindow.isNegative() || idempotencyWindow.isZero()) {
            throw new IllegalArgumentException("idempotency_window must be > 0, was " + idempotencyWindow);
        }
        if (fsyncInterval == null || fsyncInterval.isNegative() || fsyncInterval.isZero()) {
            throw new IllegalArgumentException("fsync_interval must be > 0, was " + fsyncInterval);
        }
    }

    /** The defaults, with the checkpoint at the given file. */
    public static StoreConfig defaults(Path checkpointFile) {
        return new StoreConfig(checkpointFile, DEFAULT_CHECKPOINT_PERIOD, DEFAULT_FSYNC, DEFAULT_FSYNC_INTERVAL,
                DEFAULT_ROLL_CYCLE, Clock.systemUTC(), DEFAULT_IDEMPOTENCY_WINDOW, SyncDelay.NONE, DEFAULT_MIN_FREE_BYTES, StoreObserver.NONE,
                Retention.NONE);
    }

    public StoreConfig withFsync(Fsync policy, Duration interval) {
        return new StoreConfig(checkpointFile, checkpointPeriod, policy, interval, rollCycle, clock, idempotencyWindow, syncDelay, minFreeBytes, observer, retention);
    }

    public StoreConfig withCheckpointPeriod(Duration period) {
        return new StoreConfig(checkpointFile, period, fsync, fsyncInterval, rollCycle, clock, idempotencyWindow, syncDelay, minFreeBytes, observer, retention);
    }

    public StoreConfig withRollCycle(JournalRollCycle cycle, Clock newClock) {
        return new StoreConfig(checkpointFile, checkpointPeriod, fsync, fsyncInterval, cycle, newClock, idempotencyWindow,
                syncDelay, minFreeBytes, observer, retention);
    }

    public StoreConfig withIdempotencyWindow(Duration window) {
        return new StoreConfig(checkpointFile, checkpointPeriod, fsync, fsyncInterval, rollCycle, clock, window, syncDelay, minFreeBytes, observer, retention);
    }

    public StoreConfig withSyncDelay(SyncDelay delay) {
        return new StoreConfig(checkpointFile, checkpointPeriod, fsync, fsyncInterval, rollCycle, clock,
                idempotencyWindow, delay, minFreeBytes, observer, retention);
    }

    public StoreConfig withMinFreeBytes(long bytes) {
        return new StoreConfig(checkpointFile, checkpointPeriod, fsync, fsyncInterval, rollCycle, clock,
                idempotencyWindow, syncDelay, bytes, observer, retention);
    }

    public StoreConfig withRetention(Retention r) {
        return new StoreConfig(checkpointFile, checkpointPeriod, fsync, fsyncInterval, rollCycle, clock,
                idempotencyWindow, syncDelay, minFreeBytes, observer, r);
    }

    /**
     * {@code retention.*}: how much of a queue's journal its named subscriptions may hold back. A named subscription
     * whose position is in a journal file wholly older than {@code maxAge}, or beyond the newest {@code maxBytes} of
     * journal files, is moved forward past it and counts what it skipped; the queue's own (default) subscription is
     * never moved, so its unconsumed messages are never deleted. Zero: no bound.
     */
    public record Retention(Duration maxAge, long maxBytes) {
        public static final Retention NONE = new Retention(Duration.ZERO, 0);

        public Retention {
            if (maxAge == null || maxAge.isNegative() || maxBytes < 0) {
                throw new IllegalArgumentException("retention bounds must be >= 0, were " + maxAge + " and " + maxBytes);
            }
        }

        public boolean bounded() {
            return !maxAge.isZero() || maxBytes > 0;
        }
    }

    public StoreConfig withObserver(StoreObserver o) {
        return new StoreConfig(checkpointFile, checkpointPeriod, fsync, fsyncInterval, rollCycle, clock,
                idempotencyWindow, syncDelay, minFreeBytes, o, retention);
    }

    /** The folder holding the checkpoint and the queues' folders. */
    public Path directory() {
        Path parent = checkpointFile.toAbsolutePath().getParent();
        return parent == null ? Path.of(".").toAbsolutePath() : parent;
    }
}
