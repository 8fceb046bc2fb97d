package dev.spool.broker.auth;

import dev.spool.storage.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 9, point 6: a login appends one line; the tokens file is not rewritten per login. */
@Timeout(30)
class TokenServiceTest {
    @TempDir
    Path dir;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T00:00:00Z"));

    @Test
    void loginsShouldAppendToTheLogWithoutRewritingTheTokensFile() throws Exception {
        Path file = dir.resolve("tokens.json");
        TokenService tokens = new TokenService(file, Duration.ofHours(1), clock);
        Object inode = Files.getAttribute(file, "unix:ino");
        byte[] snapshot = Files.readAllBytes(file);
        List<String> issued = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            issued.add(tokens.issue("user" + i, new Account(Role.AGENT, 0)));
        }
        tokens.revoke(issued.get(7));
        assertEquals(inode, Files.getAttribute(file, "unix:ino"), "the tokens file was not replaced");
        assertEquals(new String(snapshot, StandardCharsets.UTF_8), Files.readString(file), "nor changed");
        Path log = dir.resolve("tokens.json.log");
        assertEquals(51, Files.readAllLines(log).size(), "one line per login and per logout");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(log)));

        TokenService restarted = new TokenService(file, Duration.ofHours(1), clock);
        assertTrue(restarted.resolve(issued.get(0)).isPresent(), "logins survive a restart");
        assertTrue(restarted.resolve(issued.get(49)).isPresent());
        assertTrue(restarted.resolve(issued.get(7)).isEmpty(), "and so do logouts");
        assertTrue(Files.notExists(log), "folded into the tokens file at start");
    }

    @Test
    void aLogLineTornByACrashShouldBeIgnored() throws Exception {
        Path file = dir.resolve("tokens.json");
        TokenService tokens = new TokenService(file, Duration.ofHours(1), clock);
        String kept = tokens.issue("ann", new Account(Role.AGENT, 0));
        Files.writeString(dir.resolve("tokens.json.log"), "{\"op\":\"add\",\"sha2", StandardOpenOption.APPEND);
        TokenService restarted = new TokenService(file, Duration.ofHours(1), clock);
        assertTrue(restarted.resolve(kept).isPresent());
    }
}
