package dev.spool.storage.journal;

import dev.spool.storage.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The free-space floor of the store's file system. Pushes are refused (disk full, nothing stored) once
 * the space left would fall below the floor, so a memory-mapped write never reaches a page the disk
 * cannot back; pulls, acks and deletes go on (they free space or use the floor's room). The store's
 * thread samples the usable space; between samples, the bytes appended since are subtracted, so a
 * burst cannot run past the floor before the next sample. When space returns, the next sample lets
 * pushes in again: nothing needs a restart.
 *
 * <p>Thread-safe: samples are published through volatile fields, appends count with an atomic adder.
 */
final class DiskSpace {
    private static final Logger LOG = LoggerFactory.getLogger(DiskSpace.class);

    /** Measures the usable bytes ({@link #UNKNOWN} for a file system that reports no size), or throws. */
    @FunctionalInterface
    interface Gauge {
        long UNKNOWN = -1;

        long usable() throws IOException;
    }

    private final Path where;
    private final Gauge gauge;
    private final long floor;
    private final AtomicLong appendedSinceSample = new AtomicLong();
    private volatile long usableAtSample = Long.MAX_VALUE;
    private volatile boolean low;
    private volatile boolean unknownLogged;

    DiskSpace(Path where, long floor) {
        this(where, () -> usableOf(where), floor);
    }

    /**
     * The usable bytes of the file system holding {@code where}, or {@link Gauge#UNKNOWN} when it reports no
     * size at all (some FUSE and network file systems report zeros): its free space cannot be known.
     */
    static long usableOf(Path where) throws IOException {
        FileStore fs = Files.getFileStore(where);
        return fs.getTotalSpace() == 0 ? Gauge.UNKNOWN : fs.getUsableSpace();
    }

    /** With a gauge of its own (tests). */
    DiskSpace(Path where, Gauge gauge, long floor) {
        this.where = where;
        this.gauge = gauge;
        this.floor = floor;
    }

    /** Measures the usable space now (the store thread does this every few tens of milliseconds). */
    void sample() {
        if (floor == 0) {
            return; // no floor: nothing to measure against
        }
        // Bytes counted from here on may not show in the measurement: they stay counted.
        long counted = appendedSinceSample.get();
        long usable;
        try {
            usable = gauge.usable();
        } catch (IOException e) {
            LOG.warn("cannot measure the free space of {}: {}", where, e.toString());
            return;
        }
        appendedSinceSample.addAndGet(-counted);
        if (usable == Gauge.UNKNOWN) {
            if (!unknownLogged) {
                unknownLogged = true;
                LOG.warn("the file system holding {} reports no size, so its free space is unknown; the free-space "
                        + "floor (storage.min_free_bytes) is not enforced there, and a full disk shows as failed "
                        + "writes", where);
            }
            low = false;
            usableAtSample = Long.MAX_VALUE;
            return;
        }
        usableAtSample = usable;
        boolean nowLow = usable < floor;
        if (nowLow != low) {
            low = nowLow;
            if (nowLow) {
                LOG.error("{} has {} bytes free, under the floor of {} (storage.min_free_bytes): pushes are refused "
                        + "with 507 until space is freed; pulls, acks and deletes go on", where, usable, floor);
            } else {
                LOG.warn("{} has {} bytes free again (floor {}): pushes are accepted", where, usable, floor);
            }
        }
    }

    /**
     * Whether {@code bytes} more may be appended without going under the floor; if so they are counted.
     * Called by every push before it writes anything.
     */
    boolean admit(long bytes) {
        if (floor == 0) {
            return true; // storage.min_free_bytes: 0 turns the floor off
        }
        if (low) {
            return false;
        }
        long after = usableAtSample - appendedSinceSample.addAndGet(bytes);
        if (after < floor) {
            appendedSinceSample.addAndGet(-bytes);
            return false;
        }
        return true;
    }

    /** The failure a refused push gets. */
    StoreException refusal(String queue) {
        return new StoreException(StoreException.Code.DISK_FULL, "queue '" + queue + "': the disk holding " + where
                + " is under its free-space floor (" + floor + " bytes, storage.min_free_bytes); nothing was stored",
                null);
    }

    long floor() {
        return floor;
    }
}
