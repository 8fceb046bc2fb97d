package dev.spool.storage.journal;

import dev.spool.storage.LogCapture;
import dev.spool.storage.StoreException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(10)
class DiskSpaceTest {
    @TempDir
    Path dir;

    @Test
    void pushesShouldBeAdmittedWhileTheFloorIsFarAway() {
        DiskSpace space = new DiskSpace(dir, () -> 1L << 30, 1L << 20);
        space.sample();
        assertTrue(space.admit(4096));
    }

    @Test
    void aFileSystemUnderTheFloorShouldRefuseEveryPushUntilSpaceReturns() {
        long[] usable = {1000};
        DiskSpace space = new DiskSpace(dir, () -> usable[0], 4096);
        space.sample();
        assertFalse(space.admit(0));
        assertEquals(StoreException.Code.DISK_FULL, space.refusal("q").code());
        usable[0] = 1L << 20;
        space.sample();
        assertTrue(space.admit(100), "space returned: admitted again without a restart");
    }

    @Test
    void bytesAppendedBetweenSamplesShouldCountAgainstTheFloor() {
        DiskSpace space = new DiskSpace(dir, () -> 10_000, 4_000);
        space.sample();
        assertTrue(space.admit(5_000));
        assertFalse(space.admit(2_000), "the second push would cross the floor before the next sample");
        assertTrue(space.admit(1_000), "a refused push counts for nothing");
        space.sample();
        assertTrue(space.admit(5_000), "a sample starts the count again");
    }

    @Test
    void bytesAppendedWhileTheSpaceIsMeasuredShouldStayCounted() {
        DiskSpace[] space = new DiskSpace[1];
        // The measurement is taken, then a push is admitted before the sample is published.
        space[0] = new DiskSpace(dir, () -> {
            assertTrue(space[0].admit(5_000));
            return 10_000;
        }, 4_000);
        space[0].sample();
        assertFalse(space[0].admit(2_000), "the 5,000 bytes admitted during the sample are not in it");
    }

    @Test
    void aFloorOfZeroShouldAdmitPushesOnAFileSystemReportingNoFreeBlocks() {
        DiskSpace space = new DiskSpace(dir, () -> 0, 0);
        space.sample();
        assertTrue(space.admit(1 << 20));
    }

    @Test
    void aFileSystemReportingNoSizeShouldBeLoggedOnceAsUnknownNotTreatedAsFull() {
        try (LogCapture logs = new LogCapture()) {
            DiskSpace space = new DiskSpace(dir, () -> DiskSpace.Gauge.UNKNOWN, 1L << 20);
            space.sample();
            space.sample();
            assertTrue(space.admit(1 << 20));
            assertEquals(1, logs.warnings().stream().filter(m -> m.contains("reports no size")).count());
            assertTrue(logs.errors().isEmpty(), "not an error: " + logs.errors());
        }
    }

    @Test
    void theRealGaugeShouldMeasureTheFolder() throws Exception {
        DiskSpace space = new DiskSpace(dir, 0);
        space.sample();
        assertTrue(space.admit(1));
    }
}
