package org.carerelay.gateway.hl7;

import ca.uhn.hl7v2.util.idgenerator.IDGenerator;
import java.security.SecureRandom;

/**
 * MSH-10 of the ACKs this gateway sends: 20 characters (MSH-10's length up to v2.6) from
 * {@code [0-9A-Z]}, drawn at random (about 103 bits), so they are unique across restarts and nodes
 * without a counter file or a shared sequence, and tell nothing about how many messages came in.
 */
final class ControlIds implements IDGenerator {

    static final int LENGTH = 20;
    private static final char[] ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".toCharArray();
    private final SecureRandom random = new SecureRandom();

    @Override
    public String getID() {
        char[] id = new char[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            id[i] = ALPHABET[random.nextInt(ALPHABET.length)];
        }
        return new String(id);
    }
}
