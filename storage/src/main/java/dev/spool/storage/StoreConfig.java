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
 * @param clock            the time source for roll cycles and creation times (tests move it)
 */
public record StoreConfig(Path checkpointFile, Duration checkpointPeriod, Fsync fsync, Duration fsyncInterval,
                          JournalRollCycle rollCycle, Clock clock) {

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

    public StoreConfig {
        Objects.requireNonNull(checkpointFile, "checkpointFile");
        Objects.requireNonNull(fsync, "fsync");
        Objects.requireNonNull(rollCycle, "rollCycle");
        Objects.requireNonNull(clock, "clock");
        if (checkpointPeriod == null || checkpointPeriod.isNegative() || checkpointPeriod.isZero()) {
            throw new IllegalArgumentException("save_period_time must be > 0, was " + checkpointPeriod);
        }
        if (fsyncInterval == null || fsyncInterval.isNegative() || fsyncInterval.isZero()) {
            throw new IllegalArgumentException("fsync_interval must be > 0, was " + fsyncInterval);
        }
    }

    /** The defaults, with the checkpoint at the given file. */
    public static StoreConfig defaults(Path checkpointFile) {
        return new StoreConfig(checkpointFile, DEFAULT_CHECKPOINT_PERIOD, DEFAULT_FSYNC, DEFAULT_FSYNC_INTERVAL,
                DEFAULT_ROLL_CYCLE, Clock.systemUTC());
    }

    public StoreConfig withFsync(Fsync policy, Duration interval) {
        return new StoreConfig(checkpointFile, checkpointPeriod, policy, interval, rollCycle, clock);
    }

    public StoreConfig withCheckpointPeriod(Duration period) {
        return new StoreConfig(checkpointFile, period, fsync, fsyncInterval, rollCycle, clock);
    }

    public StoreConfig withRollCycle(JournalRollCycle cycle, Clock newClock) {
        return new StoreConfig(checkpointFile, checkpointPeriod, fsync, fsyncInterval, cycle, newClock);
    }

    /** The folder holding the checkpoint and the queues' folders. */
    public Path directory() {
        Path parent = checkpointFile.toAbsolutePath().getParent();
        return parent == null ? Path.of(".").toAbsolutePath() : parent;
    }
}
