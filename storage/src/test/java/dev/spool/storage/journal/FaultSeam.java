package dev.spool.storage.journal;

/** The store's fault points for tests outside this package (the broker's): see {@link Faults}. */
public final class FaultSeam {
    private FaultSeam() {
    }

    /** Makes the {@code nth} pass of the named point from now fail with an I/O error. */
    public static void fail(String point, long nth) {
        Faults.fail(Faults.Point.valueOf(point), nth);
    }

    /** Disarms every point. */
    public static void clear() {
        Faults.clear();
    }
}
