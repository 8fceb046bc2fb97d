/** The REST API on Undertow: routes, handlers, problem-details errors. */
package dev.spool.broker.http;
