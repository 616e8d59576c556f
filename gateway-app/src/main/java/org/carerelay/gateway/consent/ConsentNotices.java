package org.carerelay.gateway.consent;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import org.carerelay.gateway.config.PublicUrls;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.mail.MailOutbox;
import org.carerelay.gateway.registration.ParticipantRepository;
import org.carerelay.routes.mail.OutboundMail;
import org.carerelay.gateway.infra.SafeExceptions;
import org.hl7.fhir.r4.model.Organization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The e-mail every partner of a consent (and its author) gets when the consent is changed or
 * revoked. It names the organisation that did it and the Consent to look at — never the patient
 * (no name, KVNR or birth date). Mails are handed to the outbox only once the change committed.
 */
@Component
public class ConsentNotices {

    private static final Logger log = LoggerFactory.getLogger(ConsentNotices.class);

    enum Kind { CHANGED, REVOKED }

    private final ParticipantRepository participants;
    private final DirectoryService directory;
    private final MailOutbox outbox;
    private final PublicUrls urls;

    public ConsentNotices(ParticipantRepository participants, DirectoryService directory, MailOutbox outbox,
            PublicUrls urls) {
        this.participants = participants;
        this.directory = directory;
        this.outbox = outbox;
        this.urls = urls;
    }

    void notify(Kind kind, String consentId, String byOrganization, Collection<String> organizations) {
        Set<String> recipients = new LinkedHashSet<>(organizations);
        recipients.remove(null);
        Runnable send = () -> {
            String by = directory.findOrganization(byOrganization).map(Organization::getName).orElse("eine Einrichtung");
            for (String org : recipients) {
                participants.contactEmail(org).ifPresent(address ->
                        outbox.send(new OutboundMail("consent-" + kind.name().toLowerCase(Locale.ROOT), address,
                                subject(kind), text(kind, by, consentId))));
            }
        };
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCommit() {
                    try {
                        send.run();
                    } catch (RuntimeException e) {
                        // the change is committed: a broker outage must not turn its answer into an error
                        // that makes the client send the change again
                        log.warn("Consent notice for Consent/{} not sent: {}", consentId, SafeExceptions.describe(e));
                    }
                }
            });
        } else {
            send.run();
        }
    }

    static String subject(Kind kind) {
        return kind == Kind.REVOKED ? "CareRelay: Eine Einwilligung wurde widerrufen"
                : "CareRelay: Eine Einwilligung wurde geändert";
    }

    private String text(Kind kind, String by, String consentId) {
        return "Guten Tag,\n\n"
                + (kind == Kind.REVOKED
                        ? by + " hat den Widerruf einer Einwilligung erfasst, in der Ihre Einrichtung genannt ist.\n"
                                + "Neue Nachrichten zu dieser Person werden nicht mehr angenommen; frühere Nachrichten sind verborgen."
                        : by + " hat eine Einwilligung geändert, in der Ihre Einrichtung genannt ist oder war.")
                + "\n\nAus Datenschutzgründen enthält diese E-Mail keine Patientendaten.\n"
                + "Sie finden die Einwilligung in Ihrem System bzw. über die CareRelay-Schnittstelle:\n\n"
                + "  Einwilligung: " + urls.fhirBase() + "/Consent/" + consentId + "\n\n"
                + "Diese Benachrichtigung wurde automatisch erstellt.\n";
    }
}
