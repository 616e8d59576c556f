package org.carerelay.gateway.pipeline;

import java.time.Instant;
import java.util.Optional;
import org.carerelay.gateway.consent.ConsentRepository;
import org.carerelay.gateway.consent.ConsentState;
import org.springframework.stereotype.Component;

/**
 * The consent gate again, at delivery and release time: a message about a patient goes to a
 * recipient only while the patient's consent is active, covers sender and recipient, and was not
 * revoked after the message was sent.
 */
@Component
public class ConsentCheck {

    private final ConsentRepository consents;

    public ConsentCheck(ConsentRepository consents) {
        this.consents = consents;
    }

    /** Empty when allowed; otherwise the error code why not. */
    public Optional<String> refusal(String patientId, Instant sent, String sender, String recipient) {
        if (patientId == null) {
            return Optional.empty();
        }
        ConsentState state = consents.stateOf(patientId);
        if (state.lastRevoked().isPresent() && !state.lastRevoked().get().isBefore(sent)) {
            return Optional.of("consent-revoked");
        }
        if (!state.active()) {
            return Optional.of(state.revoked() ? "consent-revoked" : "consent-missing");
        }
        if (!state.actors().contains(recipient) || !state.actors().contains(sender)) {
            return Optional.of("recipient-not-covered");
        }
        return Optional.empty();
    }
}
