package dev.spool.broker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The broker's {@code openapi.yaml}, used as a contract by the black-box tests: every answer they receive must be
 * a status the document lists for that operation, with a body its schema accepts (JSON Schema 2020-12, the dialect
 * of OpenAPI 3.1, checked by networknt's json-schema-validator). A response the document does not describe fails
 * the test that received it.
 */
final class OpenApiContract {
    static final OpenApiContract DOCUMENT = new OpenApiContract();

    private final JsonNode doc;
    private final SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    private final Map<String, Schema> schemas = new ConcurrentHashMap<>();

    private OpenApiContract() {
        try (InputStream in = Broker.class.getResourceAsStream("http/openapi.yaml")) {
            Object yaml = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
            doc = new ObjectMapper().valueToTree(yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    JsonNode document() {
        return doc;
    }

    /** The documented path template a request path falls under, or null. */
    String template(String path) {
        String[] parts = path.split("/", -1);
        for (Iterator<String> it = doc.get("paths").fieldNames(); it.hasNext(); ) {
            String t = it.next();
            String[] tp = t.split("/", -1);
            if (tp.length != parts.length) {
                continue;
            }
            boolean match = true;
            for (int i = 0; i < tp.length && match; i++) {
                match = tp[i].startsWith("{") ? !parts[i].isEmpty() : tp[i].equals(parts[i]);
            }
            if (match) {
                return t;
            }
        }
        return null;
    }

    /**
     * Checks one answer against the document; throws AssertionError naming what differs.
     *
     * @param pathAndQuery the request target as sent
     */
    void check(String method, String pathAndQuery, int status, String contentType, String body) {
        String path = pathAndQuery.split("\\?", 2)[0];
        String t = template(path);
        JsonNode op = t == null ? null : doc.get("paths").get(t).get(method.toLowerCase(Locale.ROOT));
        String media = contentType == null ? "" : contentType.split(";", 2)[0].trim();
        if (op == null) {
            // No such operation: only the router's own problems may answer.
            if (!(status == 404 || status == 405) || !media.equals("application/problem+json")) {
                throw new AssertionError(method + " " + path + " is not in openapi.yaml but answered " + status);
            }
            validate("#/components/schemas/Problem", doc.at("/components/schemas/Problem"), body, method, path, status);
            return;
        }
        JsonNode response = op.path("responses").get(Integer.toString(status));
        if (response == null) {
            throw new AssertionError("openapi.yaml lists no " + status + " for " + method + " " + t + "; the body was: " + body);
        }
        String where = "#/paths/" + t + "/" + method.toLowerCase(Locale.ROOT) + "/responses/" + status;
        if (response.has("$ref")) {
            where = response.get("$ref").asText();
            response = doc.at(where.substring(1));
        }
        JsonNode content = response.get("content");
        if (content == null) {
            return;
        }
        JsonNode mediaType = content.get(media);
        if (mediaType == null) {
            throw new AssertionError(method + " " + t + " " + status + " answered " + media + ", openapi.yaml says "
                    + content.fieldNames().next() + "; the body was: " + body);
        }
        if (media.endsWith("json")) {
            validate(where + "/" + media, mediaType.get("schema"), body, method, path, status);
        }
    }

    private void validate(String key, JsonNode schema, String body, String method, String path, int status) {
        Schema s = schemas.computeIfAbsent(key, k -> {
            // The schema at the root, with the document's components beside it, so $refs resolve.
            ObjectNode root = schema.deepCopy();
            root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
            root.set("components", doc.get("components"));
            return registry.getSchema(root.toString(), InputFormat.JSON);
        });
        List<Error> errors = s.validate(body, InputFormat.JSON);
        if (!errors.isEmpty()) {
            List<String> messages = new ArrayList<>();
            errors.forEach(e -> messages.add(e.toString()));
            throw new AssertionError(method + " " + path + " " + status + " does not match openapi.yaml (" + key + "): "
                    + messages + "; the body was: " + body);
        }
    }
}
