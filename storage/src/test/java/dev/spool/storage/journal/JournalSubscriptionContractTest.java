package dev.spool.storage.journal;

import dev.spool.storage.QueueStore;
import dev.spool.storage.StoreTestSupport;
import dev.spool.storage.SubscriptionContractTest;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** The subscription contract suite on the journal store. */
class JournalSubscriptionContractTest extends SubscriptionContractTest {
    @TempDir
    Path dir;

    @Override
    protected QueueStore open() {
        return JournalQueueStore.open(StoreTestSupport.config(dir));
    }
}
