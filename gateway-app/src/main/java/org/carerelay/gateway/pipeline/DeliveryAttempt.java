package org.carerelay.gateway.pipeline;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.conversation.MessageRepository;
import org.carerelay.gateway.conversation.MessageService;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.infra.Outages;
import org.carerelay.routes.pipeline.ExpectedRetry;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.Organization;
import org.carerelay.routes.pipeline.WorkItem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The frame every push delivery shares: claim the ledger entry (idempotency + lease), check the
 * consent again, hand over, record the outcome. Retryable failures throw, so the broker redelivers
 * the work item with backoff; permanent ones are recorded as {@code failed}. A work item is
 * acknowledged only when its delivery is settled or handed on: one that finds another attempt's
 * lease schedules a copy for the end of that lease, since that attempt may have died with its node
 * (and the sweeper re-queues leases long expired, for work items that are gone).
 */
@Component
public class DeliveryAttempt {

    private static final Logger log = LoggerFactory.getLogger(DeliveryAttempt.class);

    /**
     * What the sender of a message is told when its partner could not be reached, whatever the
     * reason (connection refused, timeout, unknown host, TLS failure, destination refused by the
     * egress policy): the difference would turn {@code $delivery-status} into a port scanner.
     * The operator sees the full reason.
     */
    public static final String UNREACHABLE = "partner unreachable";

    /**
     * What a channel reports back: {@code detail} for the sender, {@code operatorDetail} (null:
     * the same) for the operator.
     */
    public record Outcome(boolean delivered, boolean retry, String detail, String operatorDetail) {
        public static Outcome delivered(String detail) {
            return new Outcome(true, false, detail, null);
        }

        /** Failed for good, for a reason the sender may read (the recipient's answer, a rule of the gateway). */
        public static Outcome permanentFailure(String detail) {
            return new Outcome(false, false, detail, null);
        }

        /** The partner did not answer usefully (connection, timeout, 5xx): tried again. */
        public static Outcome retry(String detail) {
            return new Outcome(false, true, UNREACHABLE, detail);
        }

        /** The egress policy refuses the destination: failed for good, nothing was sent. */
        public static Outcome refused(String detail) {
            return new Outcome(false, false, UNREACHABLE, detail);
        }
    }

    /** What a channel gets to work with. */
    public record Context(MessageRepository.Row message, Communication communication, Organization recipient, Endpoint endpoint) {
    }

    /** Thrown for a retryable failure; the broker redelivers, the log gets one line with the reason. Carries no content. */
    public static class RetryLater extends ExpectedRetry {
        public RetryLater(String detail) {
            super(detail);
        }
    }

    private final DeliveryLedger ledger;
    private final MessageRepository messages;
    private final MessageService messageService;
    private final DirectoryService directory;
    private final RecipientChannels channels;
    private final ConsentCheck consent;
    private final TransactionTemplate tx;
    private final DeliveryMetrics metrics;
    private final WorkQueue workQueue;

    public DeliveryAttempt(DeliveryLedger ledger, MessageRepository messages, MessageService messageService,
            DirectoryService directory, RecipientChannels channels, ConsentCheck consent, TransactionTemplate tx,
            DeliveryMetrics metrics, WorkQueue workQueue) {
        this.ledger = ledger;
        this.messages = messages;
        this.messageService = messageService;
        this.directory = directory;
        this.channels = channels;
        this.consent = consent;
        this.tx = tx;
        this.metrics = metrics;
        this.workQueue = workQueue;
    }

    public void run(String messageId, String recipient, Duration lease, Function<Context, Outcome> channel) {
        boolean[] leased = {false};
        Optional<Context> context = tx.execute(status -> {
            switch (ledger.claim(messageId, recipient, lease)) {
                case SETTLED -> {
                    return Optional.<Context>empty(); // done already: this work item is finished
                }
                case LEASED -> {
                    leased[0] = true;
                    return Optional.<Context>empty();
                }
                case CLAIMED -> {
                    // ours: go on
                }
            }
            MessageRepository.Row message = messages.find(messageId).orElse(null);
            if (message == null) {
                ledger.failed(messageId, recipient, "message not found");
                return Optional.<Context>empty();
            }
            Optional<String> refusal = consent.refusal(message.subjectPatient(), message.sent(), message.senderOrg(), recipient);
            if (refusal.isPresent()) {
                ledger.failed(messageId, recipient, refusal.get());
                return Optional.<Context>empty();
            }
            Organization org = directory.findOrganization(recipient).orElse(null);
            if (org != null && org.hasActive() && !org.getActive()) {
                ledger.failed(messageId, recipient, "recipient deactivated");
                return Optional.<Context>empty();
            }
            Endpoint endpoint = org == null ? null : channels.systemEndpoint(org).orElse(null);
            if (endpoint == null) {
                ledger.failed(messageId, recipient, "no active system endpoint");
                return Optional.<Context>empty();
            }
            Communication communication = messageService.originalForDelivery(message);
            return Optional.of(new Context(message, communication, org, endpoint));
        });
        if (leased[0]) {
            handBackAfterLease(messageId, recipient);
            return;
        }
        if (context == null || context.isEmpty()) {
            return;
        }
        Outcome outcome;
        try {
            outcome = channel.apply(context.get());
        } catch (RecipientAttachments.CertificateUnusable e) {
            outcome = Outcome.permanentFailure(e.getMessage());
        } catch (GatewayException e) {
            // an attachment that does not verify is never sent; retrying would not change it
            outcome = e.errorCode() == ErrorCode.INTEGRITY_FAILURE
                    ? Outcome.permanentFailure("integrity-failure: a stored attachment does not verify")
                    : Outcome.retry(e.errorCode().code());
        } catch (RuntimeException e) {
            outcome = Outcome.retry(e.getClass().getSimpleName());
        }
        Outcome result = outcome;
        if (result.retry()) {
            // nothing was handed over: should this write fail, the redelivered work item waits out the lease
            tx.executeWithoutResult(status -> ledger.attemptFailed(messageId, recipient, result.detail(), result.operatorDetail()));
        } else {
            recordOutcome(messageId, recipient, () -> tx.executeWithoutResult(status -> {
                if (result.delivered()) {
                    ledger.delivered(messageId, recipient, result.detail());
                } else {
                    ledger.failed(messageId, recipient, result.detail(), result.operatorDetail());
                }
            }));
        }
        metrics.attempted(context.get(), result);
        if (result.retry()) {
            throw new RetryLater(forLog(result.operatorDetail() != null ? result.operatorDetail() : result.detail()));
        }
    }

    /**
     * Writes the outcome of a hand-over that happened (or a final refusal). The partner has the message now, so a
     * database that cannot be reached at this moment must not turn into a second hand-over: the
     * write is tried again (backoff up to {@link #OUTCOME_RETRY_MAX}) while this attempt still holds
     * its lease and the work item, until the database answers. Whoever else might take the delivery
     * after its lease (the sweeper, a copy scheduled for the lease's end) needs the database too and
     * this write comes within a second of its return. Only when the gateway shuts down, or the outage
     * outlasts {@link #OUTCOME_RETRY_FOR}, does the failure go to the broker, which redelivers the
     * work item (and the partner may see the message twice, with the same control ID).
     */
    void recordOutcome(String messageId, String recipient, Runnable write) {
        long deadline = System.nanoTime() + OUTCOME_RETRY_FOR.toNanos();
        long pause = 250;
        boolean logged = false;
        while (true) {
            try {
                write.run();
                if (logged) {
                    log.info("Outcome of the delivery of message {} to {} recorded after the database returned", messageId, recipient);
                }
                return;
            } catch (RuntimeException e) {
                if (Outages.unavailable(e).orElse(null) != Outages.Dependency.DATABASE
                        || stopping || System.nanoTime() - deadline > 0) {
                    throw e;
                }
                if (!logged) {
                    log.warn("Delivery of message {} to {} is settled but the database cannot be reached; "
                            + "recording the outcome again until it answers", messageId, recipient);
                    logged = true;
                }
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                pause = Math.min(pause * 2, OUTCOME_RETRY_MAX.toMillis());
            }
        }
    }

    /** How long an outcome write is tried again while the database is unreachable. */
    static final Duration OUTCOME_RETRY_FOR = Duration.ofMinutes(10);

    /** The longest pause between two tries, so the write lands within a second or two of the database's return. */
    static final Duration OUTCOME_RETRY_MAX = Duration.ofSeconds(1);

    private volatile boolean stopping;

    /** The gateway is shutting down: outcome writes stop waiting for the database. */
    @EventListener(ContextClosedEvent.class)
    public void stopping() {
        stopping = true;
    }

    /**
     * Another attempt holds the lease: it may finish, or it died with its node. A copy of this
     * work item is scheduled on the broker for when the lease runs out (sent before this one is
     * acknowledged, so a crash in between leaves two copies, never none); that copy finds the
     * delivery settled, or claims it. Costs none of the delivery's attempts.
     */
    private void handBackAfterLease(String messageId, String recipient) {
        Optional<DeliveryLedger.Entry> entry = ledger.find(messageId, recipient);
        Optional<WorkItem.Stage> stage = entry.flatMap(e -> e.channel().pushStage());
        if (stage.isEmpty()) {
            return;
        }
        Duration wait = ledger.leaseRemaining(messageId, recipient).orElse(Duration.ZERO).plusSeconds(1);
        workQueue.sendLater(new WorkItem(stage.get(), messageId, recipient), wait);
        log.info("Delivery of message {} to {} is leased by another attempt; work item due again in {} s",
                messageId, recipient, wait.toSeconds());
    }

    /**
     * The reason as the retry log line shows it: a partner's own words (the text of an ACK the
     * gateway could not read) may quote the patient, so they stay in the ledger for the operator.
     */
    static String forLog(String reason) {
        if (reason == null) {
            return null;
        }
        int partnerText = reason.indexOf("ACK with unknown MSA-1");
        if (partnerText < 0) {
            return reason;
        }
        int colon = reason.indexOf(": ", partnerText);
        return colon < 0 ? reason : reason.substring(0, colon) + " (text in $delivery-status)";
    }
}
