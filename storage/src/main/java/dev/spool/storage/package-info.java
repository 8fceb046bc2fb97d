/**
 * The storage port: {@link dev.spool.storage.QueueStore}, the values it exchanges, its configuration and its
 * contract. The Chronicle engine behind it is {@link dev.spool.storage.journal}; the Kafka one lives in its own
 * module.
 */
package dev.spool.storage;
