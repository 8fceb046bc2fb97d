package dev.spool.storage.journal;

import dev.spool.storage.JournalRollCycle;
import dev.spool.storage.MutableClock;
import dev.spool.storage.StoreConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static dev.spool.storage.StoreTestSupport.config;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 22's seek on the journal: a subscription moved to a message id starts at the first entry whose id is that
 * id or more. Ids grow with the journal index but have gaps (an unclean stop gives up the rest of an id block, a
 * failed batch is voided), and the entries spread over cycle files, some of which may be empty. The answer must
 * equal a scan's for every id, and cost a binary search's reads, not a scan's.
 */
class SeekByIdTest {
    @TempDir
    Path dir;

    private static int cycleOf(EntryFile entries, long index) {
        return entries.folder().cycleOf(index);
    }

    @Test
    void seekingAnIdShouldFindTheFirstEntryAtOrAfterItAsAScanWouldWithLogarithmicReads() throws Exception {
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        StoreConfig c = config(dir).withRollCycle(JournalRollCycle.SECONDLY, clock);
        Path queueDir = dir.resolve("q");
        try (EntryFile entries = EntryFile.open("q", queueDir, c, new Quarantine(queueDir, clock))) {
            assertEquals(-1, entries.indexAtOrAfter(1), "an empty journal has nothing to start at");
            List<long[]> written = new ArrayList<>(); // {id, index}
            long id = 0;
            for (int cycle = 0; cycle < 12; cycle++) {
                int n = cycle == 5 ? 1 : 100 + 37 * cycle; // cycles of different sizes, one of a single entry
                for (int i = 0; i < n; i++) {
                    id += (i % 50 == 49) ? 1000 : 1; // gaps, as after an unclean stop
                    written.add(new long[] {id, entries.append(id, new byte[] {(byte) i})});
                }
                // Some seconds with no entry: cycles are not consecutive.
                clock.advance(Duration.ofSeconds(cycle % 3 == 0 ? 3 : 1));
            }
            long last = id;
            // The ids around every gap and every cycle's first and last entry, every 7th id written, and past the
            // end (each seek costs a few milliseconds, most of it moving between cycle files).
            java.util.TreeSet<Long> targets = new java.util.TreeSet<>(List.of(0L, last + 1, last + 2));
            for (int i = 0; i < written.size(); i++) {
                long w = written.get(i)[0];
                boolean edge = i == 0 || i == written.size() - 1 || written.get(i - 1)[0] != w - 1
                        || written.get(i + 1)[0] != w + 1 || cycleOf(entries, written.get(i - 1)[1])
                        != cycleOf(entries, written.get(i)[1]) || cycleOf(entries, written.get(i + 1)[1])
                        != cycleOf(entries, written.get(i)[1]);
                if (edge || i % 7 == 0) {
                    targets.add(w - 1);
                    targets.add(w);
                    targets.add(w + 1);
                }
            }
            int maxProbes = 0;
            int k = 0;
            for (long target : targets) {
                while (k < written.size() && written.get(k)[0] < target) {
                    k++;
                }
                long expected = k < written.size() ? written.get(k)[1] : -1;
                long found = entries.indexAtOrAfter(target);
                if (found != expected) {
                    assertEquals(expected, found, "the first entry at or after id " + target);
                }
                maxProbes = Math.max(maxProbes, entries.probes);
            }
            // 12 cycles and up to about 500 entries in one: a scan reads thousands, a binary search a few dozen.
            assertTrue(maxProbes <= 40, "entries read by one seek: " + maxProbes);
        }
    }
}
