/** The HTTP load generator. */
package dev.spool.benchmarks.load;
