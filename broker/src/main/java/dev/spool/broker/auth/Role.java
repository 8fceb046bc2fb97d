package dev.spool.broker.auth;

import java.util.Locale;

/** A user's role, with the seed's integers. */
public enum Role {
    BASIC(0), ADMINISTRATOR(1), SECRETARY(2), AGENT(3);

    private final int code;

    Role(int code) {
        this.code = code;
    }

    /** The integer the API shows ({@code "role": 3}). */
    public int code() {
        return code;
    }

    public static Role parse(String s) {
        String up = s.trim().toUpperCase(Locale.ROOT);
        for (Role r : values()) {
            if (r.name().equals(up) || String.valueOf(r.code).equals(up)) {
                return r;
            }
        }
        throw new IllegalArgumentException("role must be one of BASIC, ADMINISTRATOR, SECRETARY, AGENT, was '" + s + "'");
    }
}
