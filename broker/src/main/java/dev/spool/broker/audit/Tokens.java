package dev.spool.broker.audit;

/**
 * Header values that carry a credential whatever the header is called (a token sent under a misspelled
 * {@code Authorizaion}, an {@code X-Api-Token}): a {@code Bearer} credential, or a run of exactly 43 base64url
 * characters, the shape of this broker's tokens (32 random bytes). Checked on the audit writer's thread, by a scan
 * that allocates nothing.
 */
final class Tokens {
    static final String REDACTED = "[REDACTED]";
    private static final int TOKEN_CHARS = 43;

    private Tokens() {
    }

    /** Whether {@code value} holds a bearer credential or a token-shaped run. */
    static boolean carriesToken(String value) {
        if (value == null || value.length() < 8) {
            return false;
        }
        int run = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (isTokenChar(c)) {
                run++;
            } else {
                if (run == TOKEN_CHARS) {
                    return true;
                }
                run = 0;
                if (c == ' ' && i >= 6 && value.regionMatches(true, i - 6, "bearer", 0, 6)
                        && (i == 6 || !isTokenChar(value.charAt(i - 7)))) {
                    return true;
                }
            }
        }
        return run == TOKEN_CHARS;
    }

    private static boolean isTokenChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_';
    }
}
