package org.carerelay.gateway.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.carerelay.gateway.conversation.MessageRepository;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.registration.ParticipantRepository;
import org.carerelay.routes.pipeline.PipelineSteps;
import org.carerelay.routes.pipeline.WorkItem;
import org.carerelay.routes.pipeline.WorkItem.Stage;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.Organization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The pipeline's steps. Every step is keyed by message and recipient in the delivery ledger, so
 * redelivered or duplicated work items are harmless. Logs name ids only, never content.
 */
@Service
public class PipelineService implements PipelineSteps {

    private static final Logger log = LoggerFactory.getLogger(PipelineService.class);

    private final MessageRepository messages;
    private final DeliveryLedger ledger;
    private final ParticipantRepository participants;
    private final DirectoryService directory;
    private final RecipientChannels channels;
    private final ConsentCheck consent;
    private final FhirDelivery fhirDelivery;
    private final MllpDelivery mllpDelivery;
    private final Notifications notifications;
    private final Invitations invitations;
    private final RoutingKickoff kickoff;
    private final TransactionTemplate tx;
    private final DeliveryMetrics metrics;

    public PipelineService(MessageRepository messages, DeliveryLedger ledger, ParticipantRepository participants,
            DirectoryService directory, RecipientChannels channels, ConsentCheck consent, FhirDelivery fhirDelivery,
            MllpDelivery mllpDelivery, Notifications notifications, Invitations invitations, RoutingKickoff kickoff,
            TransactionTemplate tx, DeliveryMetrics metrics) {
        this.messages = messages;
        this.ledger = ledger;
        this.participants = participants;
        this.directory = directory;
        this.channels = channels;
        this.consent = consent;
        this.fhirDelivery = fhirDelivery;
        this.mllpDelivery = mllpDelivery;
        this.notifications = notifications;
        this.invitations = invitations;
        this.kickoff = kickoff;
        this.tx = tx;
        this.metrics = metrics;
    }

    @Override
    public List<WorkItem> fanOut(String messageId) {
        return tx.execute(status -> {
            Optional<MessageRepository.Row> found = messages.find(messageId);
            if (found.isEmpty()) {
                log.warn("Fan-out for unknown message {}; dropped", messageId);
                return List.<WorkItem>of();
            }
            MessageRepository.Row message = found.get();
            List<WorkItem> work = new ArrayList<>();
            for (String recipient : messages.recipientsOf(messageId)) {
                planRecipient(message, recipient, work);
            }
            return work;
        });
    }

    private void planRecipient(MessageRepository.Row message, String recipient, List<WorkItem> work) {
        String id = message.id();
        Optional<DeliveryLedger.Entry> existing = ledger.lock(id, recipient);
        boolean registered = participants.isRegistered(recipient);
        if (existing.isEmpty() || existing.get().state().equals("held-invited") && registered) {
            Optional<String> refusal = consent.refusal(message.subjectPatient(), message.sent(), message.senderOrg(), recipient);
            if (!registered) {
                ledger.insert(id, recipient, "invitation", refusal.isPresent() ? "failed" : "held-invited", refusal.orElse(null));
                if (refusal.isEmpty()) {
                    work.add(new WorkItem(Stage.INVITE, id, recipient));
                }
                return;
            }
            Optional<Organization> org = directory.findOrganization(recipient);
            Optional<Endpoint> endpoint = org.flatMap(channels::systemEndpoint);
            String channel = endpoint.map(RecipientChannels::channelOf).orElse("pull");
            if (existing.isEmpty()) {
                ledger.insert(id, recipient, channel, refusal.isPresent() ? "failed" : "queued", refusal.orElse(null));
            } else {
                ledger.setState(id, recipient, channel, refusal.isPresent() ? "failed" : "queued", refusal.orElse(null));
            }
            if (refusal.isEmpty()) {
                addChannelWork(id, recipient, channel, work);
                work.add(new WorkItem(Stage.NOTIFY, id, recipient));
            }
            return;
        }
        DeliveryLedger.Entry entry = existing.get();
        switch (entry.state()) {
            case "queued" -> {
                addChannelWork(id, recipient, entry.channel(), work);
                if (entry.notifiedAt() == null) {
                    work.add(new WorkItem(Stage.NOTIFY, id, recipient));
                }
            }
            case "delivered" -> {
                if (entry.notifiedAt() == null) {
                    work.add(new WorkItem(Stage.NOTIFY, id, recipient));
                }
            }
            case "held-invited" -> work.add(new WorkItem(Stage.INVITE, id, recipient));
            default -> {
                // failed or notified: nothing left to do
            }
        }
    }

    private static void addChannelWork(String id, String recipient, String channel, List<WorkItem> work) {
        switch (channel) {
            case "fhir" -> work.add(new WorkItem(Stage.DELIVER_FHIR, id, recipient));
            case "mllp" -> work.add(new WorkItem(Stage.DELIVER_MLLP, id, recipient));
            default -> {
                // pull: the recipient fetches it; the notification points to it
            }
        }
    }

    @Override
    public void deliverFhir(String messageId, String recipient) {
        fhirDelivery.deliver(messageId, recipient);
    }

    @Override
    public void deliverMllp(String messageId, String recipient) {
        mllpDelivery.deliver(messageId, recipient);
    }

    @Override
    public void notifyRecipient(String messageId, String recipient) {
        notifications.notifyRecipient(messageId, recipient);
    }

    @Override
    public void invite(String messageId, String recipient) {
        invitations.invite(messageId, recipient);
    }

    @Override
    public void deadLettered(Stage stage, String messageId, String recipient, String reason) {
        Boolean deliveryFailed = tx.execute(status -> {
            Optional<DeliveryLedger.Entry> entry = ledger.lock(messageId, recipient);
            // a live lease means an attempt is still at work; it records its own outcome
            if (entry.isPresent() && !"delivered".equals(entry.get().state()) && !ledger.isLeased(messageId, recipient)
                    && (stage == Stage.DELIVER_FHIR || stage == Stage.DELIVER_MLLP)) {
                // the sender keeps the generic reason of the last attempt; the operator learns it was parked and why
                DeliveryLedger.Entry last = entry.get();
                ledger.failed(messageId, recipient, last.detail() == null ? "delivery failed" : last.detail(),
                        "dead-lettered: " + reason
                                + (last.detailForOperator() == null ? "" : "; last error: " + last.detailForOperator()));
                return true;
            }
            return false;
        });
        if (Boolean.TRUE.equals(deliveryFailed)) {
            metrics.deadLettered(stage);
        }
        log.warn("Work item {} for message {} / {} dead-lettered", stage, messageId, recipient);
    }

    @Override
    public int sweepPendingJobs() {
        // one node per tick releases held messages: their rows cannot be locked one by one (distinct)
        Integer released = tx.execute(status -> {
            if (!ledger.tryTickLock("release-held")) {
                return 0;
            }
            List<String> held = ledger.heldForRegistered(100);
            held.forEach(kickoff::fanOut);
            return held.size();
        });
        return (released == null ? 0 : released) + requeueExpiredLeases();
    }

    /**
     * Deliveries whose attempt died with its node (lease expired, still queued) get a new work
     * item. Sent before the lease is released, in the row's transaction: a crash in between leaves
     * at most a second work item, which the ledger makes harmless.
     */
    /**
     * How long after its lease an attempt counts as dead for the sweeper. The broker brings back a
     * dead attempt's work item as soon as the lease runs out; the sweeper is for items that are
     * gone, and must not copy the work of an attempt that is merely slow (a copy would bounce off
     * nothing, but an attempt that outlives its lease by this much is dead).
     */
    static final Duration LEASE_GRACE = Duration.ofSeconds(60);

    int requeueExpiredLeases() {
        Integer count = tx.execute(status -> {
            List<DeliveryLedger.ExpiredLease> expired = ledger.lockExpiredLeases(LEASE_GRACE, 200);
            for (DeliveryLedger.ExpiredLease lease : expired) {
                List<WorkItem> work = new ArrayList<>();
                addChannelWork(lease.messageId(), lease.recipient(), lease.channel(), work);
                work.forEach(kickoff::hand);
                ledger.releaseLease(lease.messageId(), lease.recipient());
            }
            return expired.size();
        });
        if (count != null && count > 0) {
            log.warn("{} delivery attempt(s) did not finish within their lease; handed to the broker again", count);
        }
        return count == null ? 0 : count;
    }

    @Override
    public int sendDueReminders() {
        return invitations.sendDueReminders();
    }

    /** After registration: held messages go through fan-out again (consent checked again there). */
    public void release(String organizationId) {
        invitations.complete(organizationId);
        ledger.heldFor(organizationId).stream().distinct().forEach(kickoff::fanOut);
    }
}
