/**
 * The journal engine: each queue is one Chronicle Queue journal and its readers (a durable cursor, a lease table
 * and a state log), synced by a group commit, checkpointed and recovered. Only {@link
 * dev.spool.storage.journal.JournalQueueStore} (and the Chronicle flags, {@link
 * dev.spool.storage.journal.ChronicleSettings}) are public.
 */
package dev.spool.storage.journal;
