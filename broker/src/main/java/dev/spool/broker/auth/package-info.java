/** Authentication: users with salted PBKDF2 hashes, roles and expiring tokens. */
package dev.spool.broker.auth;
