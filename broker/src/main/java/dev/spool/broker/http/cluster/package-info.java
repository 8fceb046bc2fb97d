/**
 * Cluster forwarding: a settle of leases another node issued is sent to that node
 * ({@link dev.spool.broker.http.cluster.LeaseForwarder}, the API's
 * {@link dev.spool.broker.http.SettleForwarding}). Depends on the API package, never the reverse.
 */
package dev.spool.broker.http.cluster;
