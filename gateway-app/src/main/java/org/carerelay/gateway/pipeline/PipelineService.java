package org.carerelay.gateway.pipeline;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.conversation.MessageRepository;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.registration.ParticipantRepository;
import org.carerelay.routes.pipeline.PipelineSteps;
import org.carerelay.routes.pipeline.WorkItem;
import org.carerelay.routes.pipeline.WorkItem.Stage;
import org.hl7.fhir.r4.model.Organization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.function.SingletonSupplier;

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
    private final WorkQueue workQueue;
    private final TransactionTemplate tx;
    private final DeliveryMetrics metrics;
    private final int maxAttempts;

    public PipelineService(MessageRepository messages, DeliveryLedger ledger, ParticipantRepository participants,
            DirectoryService directory, RecipientChannels channels, ConsentCheck consent, FhirDelivery fhirDelivery,
            MllpDelivery mllpDelivery, Notifications notifications, Invitations invitations,
            WorkQueue workQueue, TransactionTemplate tx, DeliveryMetrics metrics, CareRelayProperties props) {
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
        this.workQueue = workQueue;
        this.tx = tx;
        this.metrics = metrics;
        this.maxAttempts = props.pipeline().maxAttempts();
    }

    @Override
    public List<WorkItem> fanOut(String messageId) {
        return tx.execute(status -> {
            Optional<MessageRepository.Addressed> found = messages.findAddressed(messageId);
            if (found.isEmpty()) {
                log.warn("Fan-out for unknown message {}; dropped", messageId);
                return List.<WorkItem>of();
            }
            MessageRepository.Row message = found.get().message();
            List<String> recipients = found.get().recipients();
            // what the recipients' routes are decided on, each read once for all recipients
            Map<String, DeliveryLedger.Entry> entries = ledger.lockAll(messageId);
            Map<String, ParticipantRepository.Registered> registrations = participants.registered(recipients);
            Function<String, Optional<String>> refusal = consent.forMessage(message.subjectPatient(), message.sent(),
                    message.senderOrg());
            // the sender's for its name, a registered recipient's for its system endpoint
            Supplier<Map<String, Organization>> directoryEntries = SingletonSupplier.of(() -> directory.findOrganizations(
                    Stream.concat(Stream.of(message.senderOrg()), recipients.stream().filter(registrations::containsKey))
                            .distinct().toList()));
            Notifications.SenderName sender = notifications.senderName(
                    () -> Optional.ofNullable(directoryEntries.get().get(message.senderOrg())));
            List<WorkItem> work = new ArrayList<>();
            for (String recipient : recipients) {
                Optional<ParticipantRepository.Registered> registered = Optional.ofNullable(registrations.get(recipient));
                Optional<String> address = registered.flatMap(ParticipantRepository.Registered::contactEmail);
                DeliveryPlan.Plan plan = DeliveryPlan.plan(facts(recipient, Optional.ofNullable(entries.get(recipient)),
                        registered.isPresent(), refusal, directoryEntries));
                boolean notifiedNow = false;
                if (plan.write() == DeliveryPlan.Write.INSERT) {
                    // made before the entry is written, so that the entry says notified from its first version
                    Notifications.Notice notice = plan.work().contains(Stage.NOTIFY)
                            ? notifications.routedNotice(message, address, sender) : Notifications.Notice.NONE;
                    if (ledger.insert(messageId, recipient, plan.channel(), plan.state(), plan.detail(), notice.sends())) {
                        notifications.send(notice);
                        notifiedNow = notice.handled();
                    } else {
                        // a fan-out of the same message at the same time routed the pair: plan again from what it wrote
                        plan = DeliveryPlan.plan(facts(recipient, ledger.lock(messageId, recipient),
                                registered.isPresent(), refusal, directoryEntries));
                        if (plan.write() == DeliveryPlan.Write.INSERT) {
                            throw new IllegalStateException("The delivery entry of message " + messageId + " for " + recipient
                                    + " was neither written nor found");
                        }
                    }
                }
                if (plan.write() == DeliveryPlan.Write.UPDATE) {
                    ledger.setState(messageId, recipient, plan.channel(), plan.state(), plan.detail());
                    // routed just now, consent checked just now, row locked: notified in this transaction
                    notifiedNow = plan.work().contains(Stage.NOTIFY)
                            && notifications.notifyRouted(message, recipient, plan.channel(), sender, address);
                }
                for (Stage stage : plan.work()) {
                    if (!(stage == Stage.NOTIFY && notifiedNow)) {
                        work.add(new WorkItem(stage, messageId, recipient));
                    }
                }
            }
            return work;
        });
    }

    /**
     * What the plan decides on, from the pair's ledger entry (locked until the transaction ends) and
     * the recipient's registration, asking consent and directory only when the recipient's route is
     * decided now.
     */
    private DeliveryPlan.Facts facts(String recipient, Optional<DeliveryLedger.Entry> entry, boolean registered,
            Function<String, Optional<String>> refusal, Supplier<Map<String, Organization>> directoryEntries) {
        Optional<DeliveryPlan.Existing> existing = entry
                .map(e -> new DeliveryPlan.Existing(e.state(), e.channel(), e.notifiedAt() != null));
        if (!DeliveryPlan.routesAnew(existing, registered)) {
            return DeliveryPlan.Facts.known(existing, registered);
        }
        Optional<Channel> systemChannel = registered
                ? Optional.ofNullable(directoryEntries.get().get(recipient)).flatMap(channels::systemEndpoint)
                        .map(RecipientChannels::channelOf)
                : Optional.empty();
        return new DeliveryPlan.Facts(existing, registered, refusal.apply(recipient), systemChannel);
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
    public void deadLettered(WorkItem item) {
        String messageId = item.messageId();
        String recipient = item.recipient();
        boolean push = item.stage() == Stage.DELIVER_FHIR || item.stage() == Stage.DELIVER_MLLP;
        String reason = "gave up after " + maxAttempts + " attempts";
        Boolean deliveryFailed = !push ? Boolean.FALSE : tx.execute(status -> {
            Optional<DeliveryLedger.Entry> entry = ledger.lock(messageId, recipient);
            // a live lease means an attempt is still at work; it records its own outcome
            if (entry.isPresent() && entry.get().state() != DeliveryState.DELIVERED && !ledger.isLeased(messageId, recipient)) {
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
            metrics.deadLettered(item.stage());
        }
        log.warn("Work item {} for message {} / {} dead-lettered", item.stage(), messageId, recipient);
    }

    @Override
    public int sweepPendingJobs() {
        // one node per tick releases held messages: their rows cannot be locked one by one (distinct)
        Integer released = tx.execute(status -> {
            if (!ledger.tryTickLock("release-held")) {
                return 0;
            }
            List<String> held = ledger.heldForRegistered(100);
            held.forEach(workQueue::fanOut);
            return held.size();
        });
        return (released == null ? 0 : released) + requeueExpiredLeases();
    }

    /**
     * How long after its lease an attempt counts as dead for the sweeper. The broker brings back a
     * dead attempt's work item as soon as the lease runs out; the sweeper is for items that are
     * gone, and must not copy the work of an attempt that is merely slow (a copy would bounce off
     * nothing, but an attempt that outlives its lease by this much is dead).
     */
    static final Duration LEASE_GRACE = Duration.ofSeconds(60);

    /**
     * Deliveries whose attempt died with its node (lease expired, still queued) get a new work
     * item. Sent before the lease is released, in the row's transaction: a crash in between leaves
     * at most a second work item, which the ledger makes harmless.
     */
    int requeueExpiredLeases() {
        Integer count = tx.execute(status -> {
            List<DeliveryLedger.ExpiredLease> expired = ledger.lockExpiredLeases(LEASE_GRACE, 200);
            for (DeliveryLedger.ExpiredLease lease : expired) {
                lease.channel().pushStage().ifPresent(stage -> workQueue.send(new WorkItem(stage, lease.messageId(), lease.recipient())));
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
        ledger.heldFor(organizationId).stream().distinct().forEach(workQueue::fanOut);
    }
}
