package org.carerelay.gateway.web.account;

import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.registration.ParticipantRepository;
import org.carerelay.gateway.registration.RegistrationService;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.web.WebUsers;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.interceptor.TransactionAspectSupport;

/**
 * Registration in the browser: the code from the letter is redeemed through
 * {@link RegistrationService#confirm} (the same checks, attempt counting, rate limits and audit as
 * the FHIR operation {@code $register}), with the person's address as the contact for
 * notifications; in the same transaction the person becomes the organisation's first account, a
 * manager. The API token the operation returns is not shown (it can be renewed in the settings).
 */
@Service
public class WebRegistration {

    /** Why a registration cannot start: the page answers each with its own message. */
    public static final class Refused extends RuntimeException {
        public enum Reason { ALREADY_REGISTERED, EMAIL_TAKEN }

        private final Reason reason;

        Refused(Reason reason) {
            super(reason.name(), null, false, false);
            this.reason = reason;
        }

        public Reason reason() {
            return reason;
        }
    }

    private final RegistrationService registration;
    private final ParticipantRepository participants;
    private final WebUsers users;
    private final AuditService audit;

    public WebRegistration(RegistrationService registration, ParticipantRepository participants, WebUsers users,
            AuditService audit) {
        this.registration = registration;
        this.participants = participants;
        this.users = users;
        this.audit = audit;
    }

    /**
     * Redeems {@code code} for {@code organizationId} and creates the first (manager) account.
     * A wrong code counts as a failed attempt even though the registration is refused.
     *
     * @return the new account's id
     */
    @Transactional(noRollbackFor = {GatewayException.class, Refused.class})
    public String register(String organizationId, String code, String name, String email, String password,
            String clientAddress) {
        if (participants.isRegistered(organizationId)) {
            audit.failure("web-registration", AuditEventAction.E, Caller.ANONYMOUS, clientAddress,
                    "Organization/" + organizationId, "already registered");
            throw new Refused(Refused.Reason.ALREADY_REGISTERED);
        }
        registration.confirm(organizationId, code, email.strip(), clientAddress);
        if (users.emailTaken(email)) {
            // checked only with a valid code (no address probing); the code stays unused
            TransactionAspectSupport.currentTransactionStatus().setRollbackOnly();
            throw new Refused(Refused.Reason.EMAIL_TAKEN);
        }
        String userId = users.create(organizationId, name, email, password, true);
        audit.success("web-account-created", AuditEventAction.C,
                Caller.participant(organizationId).actingAs(new Caller.Person(userId, name.strip())), clientAddress,
                "Organization/" + organizationId);
        return userId;
    }

    /** Step 1 of the registration from the page: a new letter with a code to the directory's fax or e-mail. */
    public void requestCode(String organizationId, String clientAddress) {
        if (participants.isRegistered(organizationId)) {
            throw new Refused(Refused.Reason.ALREADY_REGISTERED);
        }
        registration.requestCode(organizationId, clientAddress);
    }
}
