package org.carerelay.gateway.hl7;

import ca.uhn.hl7v2.AcknowledgmentCode;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.hl7.Hl7Inbound;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.security.MessageRateLimiter;
import org.carerelay.gateway.security.RateLimit;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Repeat detection and the message rate limit of HL7v2 inbound. A sender's MSH-10 seen within
 * {@code carerelay.hl7.duplicate-retention} is a repeat, answered with the ACK stored for the
 * original. MDM and ORU (the types that create messages) count against the organisation's message
 * rate limit like {@code POST Communication}; beyond it {@code AR} {@code rate-limited}.
 */
@Component
public class Hl7Admission {

    private static final Logger log = LoggerFactory.getLogger(Hl7Admission.class);

    private final JdbcClient jdbc;
    private final Duration duplicateRetention;
    private final MessageRateLimiter messageLimit;
    private final AuditService audit;

    public Hl7Admission(JdbcClient jdbc, CareRelayProperties props, MessageRateLimiter messageLimit, AuditService audit) {
        this.jdbc = jdbc;
        this.duplicateRetention = props.hl7().duplicateRetention();
        this.messageLimit = messageLimit;
        this.audit = audit;
    }

    /** Marks a repeated MSH-10 with the ACK stored for the original. */
    public void detectRepeat(InboundHl7 in) {
        Hl7Inbound.Parsed parsed = in.parsed();
        String senderId = in.caller().organizationId();
        jdbc.sql("select ack from hl7_inbound where sender_org = ? and control_id = ? and received_at > ?")
                .params(senderId, parsed.controlId(), Timestamp.from(Instant.now().minus(duplicateRetention)))
                .query(String.class).optional()
                .ifPresent(previous -> {
                    log.info("Repeated MSH-10 from {}: original ACK sent again", senderId);
                    in.previousAck(previous);
                });
    }

    /** Counts the message against the sender's rate limit; from here on its outcome is audited. */
    public void admit(InboundHl7 in) {
        if (MessageRateLimiter.counts(in.messageType())) {
            RateLimit.Verdict verdict = messageLimit.count(in.caller().organizationId());
            if (!verdict.allowed()) {
                audit.failure("hl7-inbound", AuditEventAction.C, in.caller(), in.remoteAddress(), null, "rate limited");
                throw new Hl7Refusal(AcknowledgmentCode.AR, ErrorCode.RATE_LIMITED, ErrorCode.RATE_LIMITED.hl7ErrorCode(),
                        messageLimit.refusal(verdict));
            }
        }
        in.admit();
    }
}
