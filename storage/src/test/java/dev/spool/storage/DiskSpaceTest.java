package dev.spool.storage;

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
    void theRealGaugeShouldMeasureTheFolder() throws Exception {
        DiskSpace space = new DiskSpace(dir, 0);
        space.sample();
        assertTrue(space.admit(1));
    }
}
