/** The audit log: one JSON line per request, written asynchronously. */
package dev.spool.broker.audit;
