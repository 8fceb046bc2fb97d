package dev.spool.storage;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
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

    /** Measures the usable bytes, or throws if it cannot. */
    @FunctionalInterface
    interface Gauge {
        long usable() throws IOException;
    }

    private final Path where;
    private final Gauge gauge;
    private final long floor;
    private final AtomicLong appendedSinceSample = new AtomicLong();
    private volatile long usableAtSample = Long.MAX_VALUE;
    private volatile boolean low;

    DiskSpace(Path where, long floor) {
        this(where, () -> Files.getFileStore(where).getUsableSpace(), floor);
    }

    /** With a gauge of its own (tests). */
    DiskSpace(Path where, Gauge gauge, long floor) {
        this.where = where;
        this.gauge = gauge;
        this.floor = floor;
    }

    /** Measures the usable space now (the store thread does this every few tens of milliseconds). */
    void sample() {
        long usable;
        try {
            usable = gauge.usable();
        } catch (IOException e) {
            LOG.warn("cannot measure the free space of {}: {}", where, e.toString());
            return;
        }
        appendedSinceSample.set(0);
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
