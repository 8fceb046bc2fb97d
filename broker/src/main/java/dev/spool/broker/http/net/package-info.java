/**
 * The network layer under the API: the listener assembled on XNIO and Undertow's HTTP/1.1 protocol
 * ({@link dev.spool.broker.http.net.HttpServer}), every accepted connection counted, capped and evicted
 * ({@link dev.spool.broker.http.net.Connections}) and guarded ({@link dev.spool.broker.http.net.GuardedConnection}:
 * body deadlines, head size, the answers Undertow would give empty), clients behind trusted proxies
 * ({@link dev.spool.broker.http.net.Forwarded}) and TLS contexts. What it relies on about Undertow's own bytes and
 * messages is in {@link dev.spool.broker.http.net.UndertowWire}. It knows nothing of routes or problems: the API
 * layer hands it the answers it may give by itself ({@link dev.spool.broker.http.net.Answers}).
 */
package dev.spool.broker.http.net;
