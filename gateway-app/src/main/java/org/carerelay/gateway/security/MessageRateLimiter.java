package org.carerelay.gateway.security;

import java.time.Duration;
import java.util.Locale;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.fhir.GatewayException;
import org.springframework.stereotype.Component;

/**
 * Messages per organisation and window ({@code carerelay.security.message-rate-limit} /
 * {@code message-rate-window}), over FHIR ({@code POST Communication}) and HL7v2 (MDM, ORU) alike,
 * counted in PostgreSQL so the limit holds across nodes. A backstop against a runaway or
 * compromised sender system and against delivery loops: beyond the limit, FHIR answers 429
 * {@code rate-limited}, HL7 {@code AR}.
 */
@Component
public class MessageRateLimiter {

    static final String SCOPE = "messages";

    private final RateCounters counters;
    private final RateLimit limit;

    public MessageRateLimiter(RateCounters counters, CareRelayProperties props) {
        this.counters = counters;
        this.limit = new RateLimit(props.security().messageRateLimit(),
                props.security().messageRateWindow() == null ? Duration.ofMinutes(10) : props.security().messageRateWindow());
    }

    /** Counts one message of the organisation; not allowed = over the limit, the message must be refused. */
    public RateLimit.Verdict count(String organizationId) {
        return counters.hit(SCOPE, organizationId, limit);
    }

    /** For the FHIR API: counts a message of a participant, 429 {@code rate-limited} beyond the limit. */
    public void requireWithinLimit(Caller caller) {
        if (!caller.isParticipant()) {
            return;
        }
        RateLimit.Verdict verdict = count(caller.organizationId());
        if (!verdict.allowed()) {
            GatewayException limited = new GatewayException(ErrorCode.RATE_LIMITED, refusal(verdict));
            limited.addResponseHeader("Retry-After", Long.toString(RateLimit.seconds(verdict.retryAfter())));
            throw limited;
        }
    }

    /** The HL7v2 message types that create messages and count: MDM (documents) and ORU (results). */
    public static boolean counts(String messageType) {
        String type = messageType == null ? "" : messageType.trim().toUpperCase(Locale.ROOT);
        return type.equals("MDM") || type.equals("ORU");
    }

    public String refusal(RateLimit.Verdict verdict) {
        return "The organisation has sent more than " + limit.limit() + " messages within " + limit.window()
                .toString().substring(2).toLowerCase(Locale.ROOT) + "; try again in " + RateLimit.seconds(verdict.retryAfter())
                + " s.";
    }
}
