/** A small Java client for the Spool broker's REST API. */
package dev.spool.client;
