/** JMH benchmarks of the storage port against raw Chronicle Queue. */
package dev.spool.benchmarks;
