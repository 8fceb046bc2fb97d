package dev.spool.storage.journal;

import dev.spool.storage.MutableClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(10)
class QuarantineTest {
    @TempDir
    Path dir;

    @Test
    void onlyTheNewestDamagedCopiesShouldBeKept() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-30T00:00:00Z"));
        Quarantine q = new Quarantine(dir, clock);
        Files.createDirectories(dir.resolve("journal"));
        for (int i = 0; i < Quarantine.KEEP + 2; i++) {
            Path f = Files.writeString(dir.resolve("journal").resolve("f" + i + ".cq4"), "x");
            q.setAside(f);
            clock.advance(Duration.ofSeconds(1));
        }
        List<Path> kept = q.kept();
        assertEquals(Quarantine.KEEP, kept.size());
        assertTrue(Files.exists(kept.get(kept.size() - 1).resolve("f" + (Quarantine.KEEP + 1) + ".cq4")),
                "the newest copy is kept: " + kept);
        assertFalse(kept.stream().anyMatch(p -> Files.exists(p.resolve("f0.cq4"))), "the oldest copy is deleted");
    }

    @Test
    void newFoldersShouldNeverCollide() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-11-30T00:00:00Z"));
        Quarantine q = new Quarantine(dir, clock);
        Path a = q.newFolder("journal");
        Files.createDirectories(a);
        Path b = q.newFolder("journal");
        assertFalse(a.equals(b));
    }
}
