package org.carerelay.gateway.web;

import java.time.Instant;
import java.util.UUID;
/** Web inbox accounts for integration tests, created through the gateway's own account service. */
public final class WebAccounts {

    public static final String PASSWORD = "Richtig-Langes-Passwort-2026";

    private WebAccounts() {
    }

    /** What a person signs in with. */
    public record Login(String userId, String organizationId, String email, String password, byte[] totpSecret) {
    }

    /** A person of {@code organizationId} with a TOTP authenticator already set up. */
    public static Login newUser(WebUsers users, String organizationId, String name, boolean manager) {
        String email = "person-" + UUID.randomUUID().toString().substring(0, 8) + "@" + organizationId + ".example.org";
        String id = users.create(organizationId, name, email, PASSWORD, manager);
        byte[] secret = Totp.newSecret();
        long step = Totp.step(Instant.now()) - 2;
        users.enableTotp(id, secret, step);
        return new Login(id, organizationId, email, PASSWORD, secret);
    }

    /** A person of {@code organizationId} without a second factor yet (sets it up at the first sign-in). */
    public static Login newUserWithoutSecondFactor(WebUsers users, String organizationId, String name) {
        String email = "neu-" + UUID.randomUUID().toString().substring(0, 8) + "@" + organizationId + ".example.org";
        String id = users.create(organizationId, name, email, PASSWORD, false);
        return new Login(id, organizationId, email, PASSWORD, null);
    }
}
