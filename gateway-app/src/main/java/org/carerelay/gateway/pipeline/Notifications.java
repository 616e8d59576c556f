package org.carerelay.gateway.pipeline;

import java.util.Optional;
import org.carerelay.gateway.config.PublicUrls;
import org.carerelay.gateway.conversation.MessageRepository;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.mail.MailOutbox;
import org.carerelay.gateway.registration.ParticipantRepository;
import org.carerelay.routes.mail.OutboundMail;
import org.hl7.fhir.r4.model.Organization;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The e-mail a registered recipient gets for every new message and reply. It names the sending
 * organisation and where to read the message (the conversation in the web inbox, after login, and
 * the FHIR references for connected systems) — never the patient, never the text.
 */
@Component
public class Notifications {

    private final DeliveryLedger ledger;
    private final MessageRepository messages;
    private final ParticipantRepository participants;
    private final DirectoryService directory;
    private final ConsentCheck consent;
    private final MailOutbox outbox;
    private final TransactionTemplate tx;
    private final PublicUrls urls;

    public Notifications(DeliveryLedger ledger, MessageRepository messages, ParticipantRepository participants,
            DirectoryService directory, ConsentCheck consent, MailOutbox outbox, TransactionTemplate tx,
            PublicUrls urls) {
        this.ledger = ledger;
        this.messages = messages;
        this.participants = participants;
        this.directory = directory;
        this.consent = consent;
        this.outbox = outbox;
        this.tx = tx;
        this.urls = urls;
    }

    public void notifyRecipient(String messageId, String recipient) {
        tx.executeWithoutResult(status -> {
            Optional<DeliveryLedger.Entry> entry = ledger.lock(messageId, recipient);
            if (entry.isEmpty() || entry.get().notifiedAt() != null || entry.get().state() == DeliveryState.FAILED) {
                return;
            }
            MessageRepository.Row message = messages.find(messageId).orElse(null);
            if (message == null) {
                return;
            }
            boolean pullOnly = entry.get().channel() == Channel.PULL;
            if (consent.refusal(message.subjectPatient(), message.sent(), message.senderOrg(), recipient).isPresent()) {
                return; // no notification about a patient whose consent was revoked
            }
            Optional<String> address = participants.contactEmail(recipient);
            if (address.isEmpty()) {
                return;
            }
            String sender = directory.findOrganization(message.senderOrg()).map(Organization::getName).orElse("eine Einrichtung");
            boolean reply = !message.conversationId().equals(messageId);
            outbox.send(new OutboundMail("notification", address.get(), subject(reply, sender), text(reply, sender, message)));
            ledger.notified(messageId, recipient, pullOnly);
        });
    }

    static String subject(boolean reply, String sender) {
        return reply ? "CareRelay: Neue Antwort von " + sender : "CareRelay: Neue Nachricht von " + sender;
    }

    private String text(boolean reply, String sender, MessageRepository.Row message) {
        return "Guten Tag,\n\n"
                + (reply ? "in einer Unterhaltung, an der Sie beteiligt sind, hat " + sender + " geantwortet."
                        : sender + " hat Ihnen eine neue Nachricht gesendet.")
                + "\n\nAus Datenschutzgründen enthält diese E-Mail keine Inhalte und keine Patientendaten.\n"
                + "Im CareRelay-Posteingang (nach der Anmeldung):\n\n"
                + "  " + urls.webLink("/chat/" + message.conversationId()) + "\n\n"
                + "Für angebundene Systeme über die CareRelay-Schnittstelle:\n\n"
                + "  Nachricht:    " + urls.fhirBase() + "/Communication/" + message.id() + "\n"
                + "  Unterhaltung: " + urls.fhirBase() + "/Communication?part-of=Communication/" + message.conversationId() + "\n"
                + "  Ungelesen:    " + urls.fhirBase() + "/Communication?unread=true\n\n"
                + "Diese Benachrichtigung wurde automatisch erstellt.\n";
    }
}
