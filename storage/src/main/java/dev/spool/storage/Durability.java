package dev.spool.storage;

/** What a stored message survives at the moment its push returns. */
public enum Durability {
    /** Written to the memory-mapped journal: survives a crash of the process, not of the machine. */
    PROCESS,
    /** Also synced to the disk: survives power loss. */
    DISK,
    /**
     * Acknowledged by the replicas a distributed store requires ({@code min.insync.replicas} on Kafka), in
     * their memory: survives the loss of any one machine, not a power loss of all of them at once.
     */
    REPLICATED
}
