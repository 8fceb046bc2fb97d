/** The crash-restart drill. */
package dev.spool.benchmarks.drill;
