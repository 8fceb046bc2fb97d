/** Spool broker: wiring and the command line. */
package dev.spool.broker;
