package dev.spool.broker;

import dev.spool.broker.config.BrokerConfig;
import dev.spool.broker.config.ConfigLoader;
import dev.spool.storage.Fsync;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 10, deployment: the files in deploy/ stay true to the broker (config keys, metric names, unit directives). */
@Timeout(60)
class DeployFilesTest {
    private static final Path DEPLOY = Path.of("..", "deploy");

    @TempDir
    Path dir;

    @Test
    void theProductionConfigShouldLoadWithIntervalFsyncTlsAndAuditBounds() throws Exception {
        // Its keystore password comes from SPOOL_TLS_PASSWORD in production; here it is written in.
        String text = Files.readString(DEPLOY.resolve("config.production.yaml"))
                .replace("    port: 7443\n", "    port: 7443\n    password: \"from-the-environment\"\n");
        Path copy = dir.resolve("config.yaml");
        Files.writeString(copy, text);
        BrokerConfig c = ConfigLoader.load(copy);
        assertEquals(Fsync.INTERVAL, c.storage().fsync());
        assertNotNull(c.server().tls());
        assertEquals(7443, c.server().tls().port());
        assertTrue(c.audit().maxFileBytes() * (c.audit().maxFiles() + 1) <= 4L << 30, "audit bounded under 4 GiB");
    }

    @Test
    void theSystemdUnitShouldRunAsItsOwnUserRestartOnFailureAndStopGracefully() throws Exception {
        List<String> lines = Files.readAllLines(DEPLOY.resolve("spool.service"));
        for (String directive : List.of("User=spool", "Restart=on-failure", "RestartPreventExitStatus=2",
                "KillSignal=SIGTERM", "SuccessExitStatus=143", "LimitNOFILE=65536", "Environment=SPOOL_CONFIG=")) {
            assertTrue(lines.stream().anyMatch(l -> l.startsWith(directive)), directive);
        }
        String exec = lines.stream().filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow();
        assertTrue(exec.endsWith("spool-broker.jar serve"), exec);
    }

    @Test
    void everyMetricTheAlertRulesUseShouldExist() throws Exception {
        Object root = new Yaml(new SafeConstructor(new LoaderOptions())).load(
                Files.readString(DEPLOY.resolve("prometheus-alerts.yml")));
        List<String> exprs = new ArrayList<>();
        for (Object g : (List<?>) ((Map<?, ?>) root).get("groups")) {
            for (Object r : (List<?>) ((Map<?, ?>) g).get("rules")) {
                exprs.add(String.valueOf(((Map<?, ?>) r).get("expr")));
            }
        }
        TreeSet<String> used = new TreeSet<>();
        Matcher m = Pattern.compile("spool_[a-z_]+").matcher(String.join("\n", exprs));
        while (m.find()) {
            used.add(m.group().replaceAll("_(bucket|count|sum)$", ""));
        }
        assertTrue(used.size() >= 8, used.toString());
        try (TestBroker b = new TestBroker(dir)) {
            assertEquals(201, b.admin("POST", "/queues/q", null).statusCode());
            String scrape = b.send("GET", "/metrics", null, null).body();
            for (String name : used) {
                assertTrue(scrape.contains("\n" + name + "{") || scrape.contains("\n" + name + " ")
                        || scrape.contains("\n" + name + "_bucket{") || scrape.contains("\n" + name + "_total"),
                        "the alert rules use " + name + ", which /metrics does not serve");
            }
        }
    }
}
