package dev.spool.broker.http;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** The seed's typed-queue models: a push to a typed queue must match; a violation names the field. */
enum MessageSchema {
    TRANSACTION {
        @Override
        void validate(JsonNode b) {
            string(b, "transaction_id");
            JsonNode c = object(b, "customer");
            integer(c, "customer.user_id", "user_id");
            string(c, "customer.username", "username");
            long role = integer(c, "customer.role", "role");
            check(role >= 0 && role <= 3, "customer.role", "must be 0, 1, 2 or 3");
            long status = integer(b, "status", "status");
            check(status >= 0 && status <= 2, "status", "must be 0 (submitted), 1 (accepted) or 2 (rejected)");
            string(b, "vendor_id");
            number(b, "amount");
            if (c.has("password")) {
                throw violation("customer.password", "must not be sent: passwords are never stored");
            }
        }
    },
    RESULT {
        @Override
        void validate(JsonNode b) {
            string(b, "result_id");
            string(b, "transaction_id");
            String ts = string(b, "timestamp");
            check(isDateTime(ts), "timestamp", "must be an ISO-8601 date-time, was '" + ts + "'");
            JsonNode f = b.get("is_fraudulent");
            check(f != null && f.isBoolean(), "is_fraudulent", "must be a boolean");
            double conf = number(b, "confidence");
            check(conf >= 0 && conf <= 1, "confidence", "must be between 0 and 1, was " + conf);
        }
    };

    abstract void validate(JsonNode body);

    private static boolean isDateTime(String ts) {
        try {
            OffsetDateTime.parse(ts);
            return true;
        } catch (DateTimeParseException e) {
            try {
                LocalDateTime.parse(ts);
                return true;
            } catch (DateTimeParseException e2) {
                return false;
            }
        }
    }

    static MessageSchema of(String type) {
        return type == null ? null : valueOf(type.toUpperCase(Locale.ROOT));
    }

    static boolean isKnown(String type) {
        try {
            of(type);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static ApiException violation(String field, String why) {
        return new ApiException(ErrorCode.SCHEMA_VIOLATION, "body." + field + " " + why);
    }

    private static void check(boolean ok, String field, String why) {
        if (!ok) {
            throw violation(field, why);
        }
    }

    private static String string(JsonNode n, String field) {
        return string(n, field, field);
    }

    private static String string(JsonNode n, String path, String field) {
        JsonNode v = n.get(field);
        check(v != null && v.isTextual(), path, "is required and must be a string");
        return v.asText();
    }

    private static long integer(JsonNode n, String path, String field) {
        JsonNode v = n.get(field);
        check(v != null && v.isIntegralNumber() && v.canConvertToLong(), path,
                "is required and must be an integer in the 64-bit range");
        return v.asLong();
    }

    private static double number(JsonNode n, String field) {
        JsonNode v = n.get(field);
        check(v != null && v.isNumber(), field, "is required and must be a number");
        return v.asDouble();
    }

    private static JsonNode object(JsonNode n, String field) {
        JsonNode v = n.get(field);
        check(v != null && v.isObject(), field, "is required and must be an object");
        return v;
    }
}
