package org.carerelay.gateway.pipeline;

import java.util.Optional;
import java.util.function.Supplier;
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

    /** The notification work item's step: in a transaction of its own. */
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
            if (consent.refusal(message.subjectPatient(), message.sent(), message.senderOrg(), recipient).isPresent()) {
                return; // no notification about a patient whose consent was revoked
            }
            notifyLocked(message, recipient, entry.get().channel(), senderName(message.senderOrg()));
        });
    }

    /**
     * Fan-out's notification for a held entry it has just routed (updated to queued, not notified),
     * in fan-out's transaction, which holds the entry locked and has checked the consent for it.
     * The mail goes to the queue as that transaction commits; the ledger says notified with the same
     * commit, so a redelivered fan-out does not notify again. False when the mail cannot be made
     * (an address the mail library refuses): nothing was queued or written, and fan-out leaves the
     * notification to a work item of its own, so that it fails alone and not the whole fan-out.
     *
     * @param address the recipient's notification address, as fan-out read it with its registration
     */
    boolean notifyRouted(MessageRepository.Row message, String recipient, Channel channel, SenderName sender,
            Optional<String> address) {
        Notice notice = routedNotice(message, address, sender);
        if (notice.sends()) {
            queue(notice.mail(), message, recipient, channel);
        }
        return notice.handled();
    }

    /**
     * Fan-out's notification for a recipient it routes now, made but not yet queued, so that the
     * recipient's new ledger entry can say notified from its first version ({@link #send} once it is
     * written). Nobody to tell (no address) needs no mail; a mail that cannot be made (an address
     * the mail library refuses) is left to a work item of its own.
     */
    Notice routedNotice(MessageRepository.Row message, Optional<String> address, SenderName sender) {
        if (address.isEmpty()) {
            return Notice.NOBODY;
        }
        try {
            return new Notice(outbox.compose(notification(message, address.get(), sender)), true);
        } catch (IllegalArgumentException | IllegalStateException e) {
            return Notice.UNMAKEABLE;
        }
    }

    /** Queues the notice's mail as the transaction commits. */
    void send(Notice notice) {
        if (notice.sends()) {
            outbox.send(notice.mail());
        }
    }

    /**
     * A notification made for fan-out: {@code mail} to queue (null: none), {@code handled} false
     * when the notification is left to a work item.
     */
    record Notice(byte[] mail, boolean handled) {

        /** No notification is due: nothing to queue, no work item. */
        static final Notice NONE = new Notice(null, true);
        /** Nobody to tell (no address): nothing to queue, no work item. */
        static final Notice NOBODY = new Notice(null, true);
        /** The mail cannot be made: left to a work item of its own. */
        static final Notice UNMAKEABLE = new Notice(null, false);

        boolean sends() {
            return mail != null;
        }
    }

    /** The work item's notification: a mail that cannot be made fails the step. */
    private void notifyLocked(MessageRepository.Row message, String recipient, Channel channel, SenderName sender) {
        Optional<String> address = participants.contactEmail(recipient);
        if (address.isPresent()) {
            queue(outbox.compose(notification(message, address.get(), sender)), message, recipient, channel);
        }
    }

    /** Queued as the transaction commits, and recorded as notified in the same commit. */
    private void queue(byte[] mail, MessageRepository.Row message, String recipient, Channel channel) {
        outbox.send(mail);
        ledger.notified(message.id(), recipient, channel == Channel.PULL);
    }

    private OutboundMail notification(MessageRepository.Row message, String address, SenderName sender) {
        String name = sender.name();
        boolean reply = !message.conversationId().equals(message.id());
        return new OutboundMail("notification", address, subject(reply, name), text(reply, name, message));
    }

    /** The name of {@code organizationId}, looked up when first needed. */
    SenderName senderName(String organizationId) {
        return senderName(() -> directory.findOrganization(organizationId));
    }

    /** The name in the sender's directory entry, taken from {@code entry} when first needed. */
    SenderName senderName(Supplier<Optional<Organization>> entry) {
        return new SenderName(entry);
    }

    /** The sending organisation's name, looked up once for all recipients of a message. */
    static final class SenderName {

        private final Supplier<Optional<Organization>> entry;
        private String name;

        SenderName(Supplier<Optional<Organization>> entry) {
            this.entry = entry;
        }

        String name() {
            if (name == null) {
                name = entry.get().map(Organization::getName).orElse("eine Einrichtung");
            }
            return name;
        }
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
