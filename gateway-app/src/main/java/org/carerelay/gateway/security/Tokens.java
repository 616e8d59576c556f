package org.carerelay.gateway.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Secrets: API tokens and one-time codes. Only SHA-256 hashes are stored; tokens carry 256 bits
 * of entropy, so an unsalted hash cannot be reversed, and one-time codes are protected by their
 * attempt limit and expiry.
 */
public final class Tokens {

    private static final SecureRandom RANDOM = new SecureRandom();
    /** No 0/O, 1/I/L: the code is read off a fax. */
    private static final char[] CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789".toCharArray();

    private Tokens() {
    }

    /** A new API token: {@code crt_} + 43 base64url characters. */
    public static String newToken() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return "crt_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** A one-time code of 10 characters in two groups, e.g. {@code K7PQ2-XM4RD}. */
    public static String newCode() {
        StringBuilder sb = new StringBuilder(11);
        for (int i = 0; i < 10; i++) {
            if (i == 5) {
                sb.append('-');
            }
            sb.append(CODE_ALPHABET[RANDOM.nextInt(CODE_ALPHABET.length)]);
        }
        return sb.toString();
    }

    /** Codes are compared case-insensitively and without separators or blanks. */
    public static String normalizeCode(String code) {
        return code == null ? "" : code.replaceAll("[\\s-]", "").toUpperCase(Locale.ROOT);
    }

    public static String sha256(String secret) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Constant-time comparison of two hex hashes. */
    public static boolean hashEquals(String a, String b) {
        return a != null && b != null && MessageDigest.isEqual(
                a.getBytes(StandardCharsets.US_ASCII), b.getBytes(StandardCharsets.US_ASCII));
    }
}
