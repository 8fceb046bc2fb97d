package dev.spool.storage;

/** When the journal and cursors are synced to the disk. */
public enum Fsync {
    /** Never explicitly: data survives a process crash (the page cache holds it), not power loss. */
    NONE,
    /** Every interval: a push returns after the next periodic sync that covers it (group commit). */
    INTERVAL,
    /** On every push and pull: concurrent pushes share one sync (group commit). */
    ALWAYS
}
