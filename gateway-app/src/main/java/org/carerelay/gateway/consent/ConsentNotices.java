package org.carerelay.gateway.consent;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadPoolExecutor;
import org.carerelay.gateway.config.PublicUrls;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.mail.MailOutbox;
import org.carerelay.gateway.registration.ParticipantRepository;
import org.carerelay.routes.mail.OutboundMail;
import org.carerelay.gateway.infra.PublicationLeftOpen;
import org.carerelay.gateway.infra.SafeExceptions;
import org.hl7.fhir.r4.model.Organization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.Async;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;

/**
 * The e-mail every partner of a consent (and its author) gets when the consent is changed or
 * revoked. It names the organisation that did it and the Consent to look at — never the patient
 * (no name, KVNR or birth date).
 *
 * <p>Nothing is lost between the change and the mail: one {@link ConsentNoticeDue} per organisation
 * is published in the changing transaction, so the event publication registry stores it with the
 * change. After the commit, {@link #send} puts the mail on the mail queue on a thread of its own
 * (a broker that does not answer never holds up the change's answer); the publication is
 * completed when the mail is on the queue and stays open otherwise (the node died, the broker was
 * down, the hand-over was dropped), to be resubmitted like every open publication. At least once:
 * a node that dies between queueing the mail and completing the publication sends it again, and
 * another node may resubmit a notice whose send takes longer than the resubmission threshold
 * (this node does not send a notice again while it is sending it).
 */
@Component
public class ConsentNotices {

    /** Stored with every publication: keep it when the class or method is renamed. */
    public static final String LISTENER_ID = "consent.notice";

    static final String EXECUTOR = "consentNoticeHandOver";

    private static final Logger log = LoggerFactory.getLogger(ConsentNotices.class);

    enum Kind { CHANGED, REVOKED }

    private final ParticipantRepository participants;
    private final DirectoryService directory;
    private final MailOutbox outbox;
    private final PublicUrls urls;
    private final ApplicationEventPublisher events;
    /** Notices this node is sending now. */
    private final Set<ConsentNoticeDue> inFlight = ConcurrentHashMap.newKeySet();

    public ConsentNotices(ParticipantRepository participants, DirectoryService directory, MailOutbox outbox,
            PublicUrls urls, ApplicationEventPublisher events) {
        this.participants = participants;
        this.directory = directory;
        this.outbox = outbox;
        this.urls = urls;
        this.events = events;
    }

    /** Inside the changing transaction: one notice per organisation, sent once the change committed. */
    void notify(Kind kind, String consentId, String byOrganization, Collection<String> organizations) {
        Set<String> recipients = new LinkedHashSet<>(organizations);
        recipients.remove(null);
        for (String organization : recipients) {
            events.publishEvent(new ConsentNoticeDue(kind.name(), consentId, byOrganization, organization));
        }
    }

    /**
     * Puts the notice's mail on the mail queue (an organisation without a contact address gets
     * none). A failure is one log line, and leaves the publication open.
     */
    @Async(EXECUTOR)
    @TransactionalEventListener(id = LISTENER_ID, fallbackExecution = true)
    public void send(ConsentNoticeDue notice) {
        if (!inFlight.add(notice)) {
            // resubmitted while this node still sends it (a broker that takes longer than the
            // resubmission threshold): open until that send ends, not a second mail
            throw new PublicationLeftOpen("consent notice for Consent/" + notice.consentId() + " to Organization/"
                    + notice.organization() + " is being sent", null);
        }
        try {
            Kind kind = Kind.valueOf(notice.kind());
            Optional<String> address = participants.contactEmail(notice.organization());
            if (address.isPresent()) {
                String by = directory.findOrganization(notice.byOrganization()).map(Organization::getName)
                        .orElse("eine Einrichtung");
                outbox.send(new OutboundMail("consent-" + kind.name().toLowerCase(Locale.ROOT), address.get(),
                        subject(kind), text(kind, by, notice.consentId())));
            }
        } catch (RuntimeException e) {
            log.warn("Consent notice for Consent/{} to Organization/{} not sent now ({}); its event publication is resubmitted",
                    notice.consentId(), notice.organization(), SafeExceptions.describe(e));
            throw new PublicationLeftOpen("consent notice for Consent/" + notice.consentId() + " to Organization/"
                    + notice.organization() + " not sent", e);
        } finally {
            inFlight.remove(notice);
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

    /**
     * The threads that put consent notices on the mail queue. When they are busy and the queue is
     * full, a notice is dropped: its publication stays open and is resubmitted (never a failure of
     * the change). No thread is kept while there is nothing to send.
     */
    @Configuration(proxyBeanMethods = false)
    static class HandOver {

        @Bean(EXECUTOR)
        ThreadPoolTaskExecutor consentNoticeHandOver() {
            ThreadPoolTaskExecutor executor = new ThreadPoolTaskExecutor();
            executor.setCorePoolSize(1);
            executor.setMaxPoolSize(1);
            executor.setQueueCapacity(10_000);
            executor.setAllowCoreThreadTimeOut(true);
            executor.setThreadNamePrefix("consent-notice-");
            executor.setDaemon(true);
            executor.setRejectedExecutionHandler(new ThreadPoolExecutor.DiscardPolicy());
            executor.setWaitForTasksToCompleteOnShutdown(false); // what is left is open in the registry
            return executor;
        }
    }
}
