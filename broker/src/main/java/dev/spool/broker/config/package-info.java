/** Configuration: the YAML file, validated once at start-up. */
package dev.spool.broker.config;
