package dev.spool.storage;

/** How much time one journal file covers. Whole files behind every cursor are deleted. */
public enum JournalRollCycle {
    /** One file a day. */
    DAILY,
    /** One file an hour (the default). */
    HOURLY,
    /** One file a second: only for tests of retention. */
    SECONDLY
}
