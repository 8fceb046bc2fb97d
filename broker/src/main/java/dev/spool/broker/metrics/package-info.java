/** Prometheus metrics: the registry, HTTP request counts and latencies, and the store's and audit log's figures. */
package dev.spool.broker.metrics;
