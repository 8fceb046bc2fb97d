package dev.spool.broker.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spool.storage.SettleResult;
import dev.spool.storage.Settlement;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Settles leases another node of a cluster issued, at that node (cluster forwarding implements it; the API only
 * asks). A forwarded settle carries {@link #HEADER}, so the owner settles it itself instead of forwarding it again.
 */
public interface SettleForwarding {
    String HEADER = "X-Spool-Forwarded";

    /**
     * @param ownerUrl      the node that issued the leases
     * @param field         the answer's count field ({@code acked}, {@code released}, {@code renewed})
     * @param request       the client's body; its other fields (delay, visibility) go along
     * @param authorization the client's Authorization header
     */
    CompletableFuture<SettleResult.Settled> forward(String ownerUrl, String queue, Settlement kind, String field,
                                                    JsonNode request, List<String> leases, String authorization);
}
