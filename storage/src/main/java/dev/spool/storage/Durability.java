package dev.spool.storage;

/** What a stored message survives at the moment its push returns. */
public enum Durability {
    /** Written to the memory-mapped journal: survives a crash of the process, not of the machine. */
    PROCESS,
    /** Also synced to the disk: survives power loss. */
    DISK
}
