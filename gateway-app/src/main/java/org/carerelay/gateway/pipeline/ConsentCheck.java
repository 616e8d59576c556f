package org.carerelay.gateway.pipeline;

import java.time.Instant;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.carerelay.gateway.consent.ConsentRepository;
import org.carerelay.gateway.consent.ConsentState;
import org.springframework.stereotype.Component;
import org.springframework.util.function.SingletonSupplier;

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
        return patientId == null ? Optional.empty() : refusal(consents.stateOf(patientId), sent, sender, recipient);
    }

    /**
     * The check for the recipients of one message, one after the other: the patient's consent is
     * read once, when the first recipient is checked, and every recipient is decided on that read.
     */
    public Function<String, Optional<String>> forMessage(String patientId, Instant sent, String sender) {
        if (patientId == null) {
            return recipient -> Optional.empty();
        }
        Supplier<ConsentState> state = SingletonSupplier.of(() -> consents.stateOf(patientId));
        return recipient -> refusal(state.get(), sent, sender, recipient);
    }

    private static Optional<String> refusal(ConsentState state, Instant sent, String sender, String recipient) {
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
