/** A small blocking HTTP/1.1 keep-alive client for load generation and drills. */
package dev.spool.benchmarks.client;
