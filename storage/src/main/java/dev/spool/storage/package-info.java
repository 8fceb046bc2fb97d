/** The journal storage engine: one Chronicle Queue per queue, durable cursors, checkpoints and recovery. */
package dev.spool.storage;
