package org.carerelay.gateway.hl7;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.util.Terser;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.hl7.AdtToPatient;
import org.carerelay.fhir.hl7.Hl7Inbound;
import org.carerelay.fhir.hl7.Hl7InboundException;
import org.carerelay.fhir.hl7.MdmToCommunication;
import org.carerelay.fhir.hl7.OruToObservations;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.conversation.MessageService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.infra.Outages;
import org.carerelay.gateway.infra.SafeExceptions;
import org.carerelay.gateway.patient.PatientService;
import org.carerelay.gateway.registration.ParticipantRepository;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.security.MessageRateLimiter;
import org.carerelay.gateway.security.RateLimit;
import org.carerelay.routes.mllp.Hl7Receiver;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * HL7v2 inbound: decode (MSH-18 charset, separators), parse (v2.1–v2.8.1), identify the sender
 * (MSH-4, else MSH-3, mapped to a registered organisation), answer a repeated MSH-10 with the
 * original ACK, then map to FHIR and hand to the same services as the FHIR API — so the same
 * consent gate and pipeline apply. The AA is built only after the transaction that stored the
 * result (and its message-accepted event) has committed. Logs carry ids and codes, never message content.
 */
@Service
public class Hl7InboundService implements Hl7Receiver {

    private static final Logger log = LoggerFactory.getLogger(Hl7InboundService.class);
    private static final DateTimeFormatter HL7_TS = DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneId.of("Europe/Berlin"));
    static final List<String> ADT_EVENTS = List.of("A01", "A04", "A05", "A08", "A28", "A31");

    private final Facilities facilities;
    private final ParticipantRepository participants;
    private final PatientService patients;
    private final MessageService messages;
    private final AuditService audit;
    private final JdbcClient jdbc;
    private final TransactionTemplate tx;
    private final CareRelayProperties.Hl7 settings;
    private final AdtToPatient.AssigningAuthorities authorities;
    private final SenderAuthentication senderAuthentication;
    private final OwnFrames ownFrames;
    private final MessageRateLimiter messageLimit;

    public Hl7InboundService(Facilities facilities, ParticipantRepository participants, PatientService patients,
            MessageService messages, AuditService audit, JdbcClient jdbc, TransactionTemplate tx, CareRelayProperties props,
            SenderAuthentication senderAuthentication, OwnFrames ownFrames, MessageRateLimiter messageLimit) {
        this.messageLimit = messageLimit;
        this.facilities = facilities;
        this.participants = participants;
        this.patients = patients;
        this.messages = messages;
        this.audit = audit;
        this.jdbc = jdbc;
        this.tx = tx;
        this.settings = props.hl7();
        this.authorities = AdtToPatient.AssigningAuthorities.defaults();
        this.senderAuthentication = senderAuthentication;
        this.ownFrames = ownFrames;
    }

    /**
     * The per-organisation message rate limit for MDM and ORU (the types that create messages):
     * counted like {@code POST Communication}; beyond the limit {@code AR} with ERR {@code rate-limited}.
     */
    private Optional<Outcome> messageRateLimit(Hl7Inbound.Parsed parsed, Caller sender, String remoteAddress) {
        if (!MessageRateLimiter.counts(parsed.messageType())) {
            return Optional.empty();
        }
        RateLimit.Verdict verdict = messageLimit.count(sender.organizationId());
        if (verdict.allowed()) {
            return Optional.empty();
        }
        audit.failure("hl7-inbound", AuditEventAction.C, sender, remoteAddress, null, "rate limited");
        return Optional.of(new Outcome(AcknowledgmentCode.AR, ErrorCode.RATE_LIMITED, ErrorCode.RATE_LIMITED.hl7ErrorCode(),
                messageLimit.refusal(verdict)));
    }

    /** Outcome of processing, before it becomes an ACK. */
    record Outcome(AcknowledgmentCode code, ErrorCode error, String hl7Code, String text) {
        static Outcome accepted(String text) {
            return new Outcome(AcknowledgmentCode.AA, null, null, text);
        }
    }

    @Override
    public byte[] receive(byte[] frame, String remoteAddress) {
        return receive(frame, Connection.plain(remoteAddress));
    }

    /**
     * A frame this gateway sent itself (its MSH-10 is in {@link OwnFrames}) gets {@code AR}
     * {@code looped-message}. The connection must be authenticated as the sender named by
     * MSH-4/MSH-3 ({@link SenderAuthentication}): on the TLS listener by the client certificate
     * (otherwise {@code AR} {@code unknown-sender}), on the plain listener by the sender's HL7
     * allow-list (otherwise {@code AR} {@code sender-not-authenticated}). Refusals are audited and
     * store nothing.
     */
    @Override
    public byte[] receive(byte[] frame, Connection connection) {
        try {
            return process(frame, connection);
        } catch (RuntimeException e) {
            Optional<Outages.Dependency> unreachable = Outages.unavailable(e);
            if (unreachable.isEmpty()) {
                throw e;
            }
            log.warn("HL7 frame from {} answered {}: the {} is unreachable ({})", connection.remoteAddress(),
                    ErrorCode.SERVICE_UNAVAILABLE.code(), unreachable.get().name().toLowerCase(java.util.Locale.ROOT),
                    SafeExceptions.describe(e));
            return unavailable(frame, connection.remoteAddress(), unreachable.get());
        }
    }

    /**
     * The database (or the broker) could not be reached, so nothing was stored: {@code AR} with ERR
     * {@code service-unavailable} (in enhanced mode {@code CE}, commit error). HL7 v2.5 §2.9.2 keeps
     * {@code AE} for errors in the message itself and {@code AR} for a refusal unrelated to its content
     * (the receiving system is down); the sender keeps the message and sends it again later, with the
     * same MSH-10, which is then accepted once.
     */
    private byte[] unavailable(byte[] frame, String remoteAddress, Outages.Dependency unreachable) {
        Outcome outcome = new Outcome(AcknowledgmentCode.AR, ErrorCode.SERVICE_UNAVAILABLE,
                ErrorCode.SERVICE_UNAVAILABLE.hl7ErrorCode(), ErrorCode.SERVICE_UNAVAILABLE.defaultText());
        Hl7Inbound.Parsed parsed = null;
        Charset charset = null;
        try {
            Hl7Inbound.Decoded decoded = Hl7Inbound.decode(frame, null);
            parsed = Hl7Inbound.parse(decoded.er7());
            charset = decoded.charset();
        } catch (RuntimeException e) {
            // answered below without the parsed header
        }
        String sender = truncate(parsed == null ? null
                : isBlank(parsed.sendingFacility()) ? parsed.sendingApplication() : parsed.sendingFacility(), 64);
        String controlId = truncate(parsed == null ? null : parsed.controlId(), 64);
        log.warn("HL7 message MSH-10 {} from sender {} ({}) refused with {}: nothing was stored",
                safe(controlId), safe(sender), remoteAddress, ErrorCode.SERVICE_UNAVAILABLE.code());
        if (unreachable == Outages.Dependency.DATABASE) {
            // the audit trail lives in the database: trying it would only hold the sender's answer back
            // for the connection timeout; the WARN above is the record of this refusal
            return answer(parsed, charset, outcome, frame);
        }
        try {
            audit.failure("hl7-inbound", AuditEventAction.C, Caller.ANONYMOUS, remoteAddress, null,
                    "service unavailable: sender " + safe(sender) + ", MSH-10 " + safe(controlId) + " not stored");
        } catch (RuntimeException e) {
            log.warn("The refusal of HL7 MSH-10 {} from {} could not be audited: {}", safe(controlId), safe(sender),
                    SafeExceptions.describe(e));
        }
        return answer(parsed, charset, outcome, frame);
    }

    private byte[] answer(Hl7Inbound.Parsed parsed, Charset charset, Outcome outcome, byte[] frame) {
        if (parsed != null) {
            try {
                return ack(parsed, charset, outcome);
            } catch (RuntimeException e) {
                // falls through to the raw refusal
            }
        }
        return rawReject(frame, outcome.error(), outcome.hl7Code(), outcome.text());
    }

    private byte[] process(byte[] frame, Connection connection) {
        String remoteAddress = connection.remoteAddress();
        if (frame.length > settings.maxFrameBytes()) {
            log.info("HL7 frame from {} rejected: {} bytes exceed the limit", remoteAddress, frame.length);
            return rawReject(frame, ErrorCode.PAYLOAD_TOO_LARGE, "207",
                    "The message has " + frame.length + " bytes; the limit is " + settings.maxFrameBytes() + ".");
        }
        if (tooManyDelimiters(frame)) {
            log.info("HL7 frame from {} rejected: too many repetitions or components in one segment", remoteAddress);
            return rawReject(frame, ErrorCode.INVALID_REQUEST, "102",
                    "A segment has more than " + MAX_DELIMITERS_PER_SEGMENT + " repetition/component separators.");
        }
        Hl7Inbound.Decoded decodedFirst;
        Hl7Inbound.Parsed parsedFirst;
        try {
            Hl7Inbound.Decoded decoded = Hl7Inbound.decode(frame, null);
            Hl7Inbound.Parsed parsed = Hl7Inbound.parse(decoded.er7());
            // a sender that leaves MSH-18 empty may have a configured default character set
            Charset senderDefault = senderCharset(parsed);
            if (senderDefault != null && isBlank(msh18(parsed)) && !senderDefault.equals(decoded.charset())) {
                decoded = Hl7Inbound.decode(frame, senderDefault);
                parsed = Hl7Inbound.parse(decoded.er7());
            }
            decodedFirst = decoded;
            parsedFirst = parsed;
        } catch (Hl7InboundException e) {
            log.info("HL7 frame from {} rejected: {}", remoteAddress, e.errorCode().code());
            return rawReject(frame, e.errorCode(), e.hl7ErrorCode(), e.getMessage());
        } catch (RuntimeException e) {
            log.info("HL7 frame from {} rejected: unparsable ({})", remoteAddress, e.getClass().getSimpleName());
            return rawReject(frame, ErrorCode.INVALID_REQUEST, "102", "The message could not be parsed.");
        }
        final Hl7Inbound.Decoded decoded = decodedFirst;
        final Hl7Inbound.Parsed parsed = parsedFirst;
        Charset charset = decoded.charset();
        boolean controlIdUsable = parsed.controlId() != null && !parsed.controlId().isBlank()
                && parsed.controlId().chars().noneMatch(c -> c < 0x20);
        if (controlIdUsable && ownFrames.sentHere(parsed.controlId())) {
            log.warn("HL7 frame from {} refused: MSH-10 {} was sent by this gateway (an endpoint points back at it)",
                    remoteAddress, safe(parsed.controlId()));
            audit.failure("hl7-inbound", AuditEventAction.C, Caller.ANONYMOUS, remoteAddress, null, "own frame came back (delivery loop)");
            return ack(parsed, charset, new Outcome(AcknowledgmentCode.AR, ErrorCode.LOOPED_MESSAGE,
                    ErrorCode.LOOPED_MESSAGE.hl7ErrorCode(), ErrorCode.LOOPED_MESSAGE.defaultText()));
        }
        Optional<Organization> sender = facilities.find(parsed.sendingFacility())
                .or(() -> facilities.find(parsed.sendingApplication()));
        if (sender.isEmpty() || !participants.isRegistered(sender.get().getIdElement().getIdPart())) {
            audit.failure("hl7-inbound", AuditEventAction.C, Caller.ANONYMOUS, remoteAddress, null, "unknown sender");
            return ack(parsed, charset, new Outcome(AcknowledgmentCode.AR, ErrorCode.UNKNOWN_SENDER, "204",
                    "Unknown sender: MSH-4 '" + safe(parsed.sendingFacility()) + "' is not a registered participant."));
        }
        Optional<SenderAuthentication.Refusal> refusal = senderAuthentication.check(sender.get(), connection);
        if (refusal.isPresent()) {
            String senderOrg = sender.get().getIdElement().getIdPart();
            log.info("HL7 frame from {} rejected: not authenticated as {} ({})", remoteAddress, senderOrg,
                    refusal.get().error().code());
            audit.failure("hl7-inbound", AuditEventAction.C, Caller.ANONYMOUS, remoteAddress, "Organization/" + senderOrg,
                    refusal.get().auditReason());
            return ack(parsed, charset, new Outcome(AcknowledgmentCode.AR, refusal.get().error(),
                    refusal.get().error().hl7ErrorCode(), refusal.get().text() + " (MSH-4 '" + safe(parsed.sendingFacility()) + "')."));
        }
        Caller caller = Caller.participant(sender.get().getIdElement().getIdPart());
        String senderId = caller.organizationId();
        if (!controlIdUsable) {
            return ack(parsed, charset, new Outcome(AcknowledgmentCode.AR, ErrorCode.INVALID_REQUEST, "102",
                    "MSH-10 (message control id) is empty or contains control characters."));
        }
        Optional<String> previous = previousAck(senderId, parsed.controlId());
        if (previous.isPresent()) {
            log.info("Repeated MSH-10 from {}: original ACK sent again", senderId);
            return storedAck(parsed, charset, previous.get());
        }
        Optional<Outcome> overLimit = messageRateLimit(parsed, caller, remoteAddress);
        if (overLimit.isPresent()) {
            return ack(parsed, charset, overLimit.get());
        }
        Outcome outcome;
        String[] acceptedAck = new String[1];
        try {
            outcome = tx.execute(status -> {
                Outcome result = dispatch(parsed, caller, remoteAddress);
                if (result.code() == AcknowledgmentCode.AA) {
                    // stored for repeats: the answer this header gets for a success (a commit ACK if none)
                    AcknowledgmentModes.Answer answer = AcknowledgmentModes.answer(parsed.acceptAckType(),
                            parsed.applicationAckType(), true);
                    String ack = encodeAck(parsed, charset, result,
                            answer == AcknowledgmentModes.Answer.NONE ? AcknowledgmentModes.Answer.COMMIT : answer);
                    acceptedAck[0] = ack;
                    jdbc.sql("insert into hl7_inbound (sender_org, control_id, message_type, received_at, ack, charset) "
                            + "values (?, ?, ?, ?, ?, ?) on conflict do nothing")
                            .params(senderId, parsed.controlId(), parsed.messageType() + "^" + parsed.triggerEvent(),
                                    Timestamp.from(Instant.now()), ack, charset.name()).update();
                }
                return result;
            });
        } catch (Hl7InboundException e) {
            outcome = new Outcome(AcknowledgmentCode.AR, e.errorCode(), e.hl7ErrorCode(), e.getMessage());
        } catch (IllegalArgumentException e) {
            outcome = new Outcome(AcknowledgmentCode.AE, ErrorCode.INVALID_RESOURCE, "207",
                    "The message content cannot be mapped: " + truncate(e.getMessage(), 120));
        } catch (GatewayException e) {
            outcome = new Outcome(e.errorCode().httpStatus() >= 500 ? AcknowledgmentCode.AR : AcknowledgmentCode.AE,
                    e.errorCode(), e.errorCode().hl7ErrorCode(), e.getMessage());
        } catch (ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException e) {
            outcome = new Outcome(AcknowledgmentCode.AE, ErrorCode.INVALID_RESOURCE, "207", e.getMessage());
        } catch (RuntimeException e) {
            if (Outages.isTransient(e)) {
                throw e; // nothing was stored: answered as unavailable by receive
            }
            log.error("HL7 message {} from {} failed: {}", parsed.controlId(), senderId, SafeExceptions.describe(e));
            outcome = new Outcome(AcknowledgmentCode.AR, ErrorCode.INTERNAL_ERROR, "207", "Internal error; nothing was stored.");
        }
        audit.record(new AuditService.Entry("hl7-inbound", AuditEventAction.C,
                outcome.code() == AcknowledgmentCode.AA ? org.hl7.fhir.r4.model.AuditEvent.AuditEventOutcome._0
                        : org.hl7.fhir.r4.model.AuditEvent.AuditEventOutcome._4,
                caller.auditName(), remoteAddress, null,
                parsed.messageType() + "^" + parsed.triggerEvent() + " " + outcome.code().name()
                        + (outcome.error() == null ? "" : " " + outcome.error().code())));
        if (acceptedAck[0] != null && outcome.code() == AcknowledgmentCode.AA) {
            return storedAck(parsed, charset, acceptedAck[0]); // the very ACK stored for repeats
        }
        return ack(parsed, charset, outcome);
    }

    private Outcome dispatch(Hl7Inbound.Parsed parsed, Caller caller, String remoteAddress) {
        String type = parsed.messageType() + "^" + parsed.triggerEvent();
        switch (parsed.messageType()) {
            case "ADT" -> {
                if ("A40".equals(parsed.triggerEvent())) {
                    return new Outcome(AcknowledgmentCode.AR, ErrorCode.NOT_SUPPORTED, "201",
                            "ADT^A40 (merge) is not supported; merge the patients in the sending system and send ADT^A08.");
                }
                if (!ADT_EVENTS.contains(parsed.triggerEvent())) {
                    return unsupported(type);
                }
                Patient patient = patients.upsertFromHl7(AdtToPatient.map(parsed.message(), authorities), caller, remoteAddress);
                return Outcome.accepted("Patient/" + patient.getIdElement().getIdPart());
            }
            case "MDM" -> {
                if (!List.of("T01", "T02").contains(parsed.triggerEvent())) {
                    return unsupported(type);
                }
                MdmToCommunication.Result document = MdmToCommunication.map(parsed.message());
                Communication communication = MdmToCommunication.toCommunication(document);
                return send(parsed, communication, caller, remoteAddress);
            }
            case "ORU" -> {
                if (!"R01".equals(parsed.triggerEvent())) {
                    return unsupported(type);
                }
                List<Observation> observations = OruToObservations.map(parsed.message());
                if (observations.isEmpty()) {
                    return new Outcome(AcknowledgmentCode.AE, ErrorCode.INVALID_RESOURCE, "101", "The ORU^R01 carries no OBX result.");
                }
                Communication communication = new Communication();
                communication.setStatus(Communication.CommunicationStatus.COMPLETED);
                StringBuilder summary = new StringBuilder("Messwerte (" + observations.size() + "):");
                int n = 0;
                for (Observation observation : observations) {
                    String localId = "obs" + (++n);
                    observation.setId(localId);
                    communication.addContained(observation);
                    communication.addPayload().setContent(new Reference("#" + localId));
                    summary.append("\n").append(describe(observation));
                }
                communication.getPayload().add(0, new Communication.CommunicationPayloadComponent(new StringType(summary.toString())));
                return send(parsed, communication, caller, remoteAddress);
            }
            default -> {
                return unsupported(type);
            }
        }
    }

    private Outcome send(Hl7Inbound.Parsed parsed, Communication communication, Caller caller, String remoteAddress) {
        Optional<Organization> recipient = facilities.find(parsed.receivingFacility())
                .or(() -> facilities.find(parsed.receivingApplication()));
        if (recipient.isEmpty()) {
            return new Outcome(AcknowledgmentCode.AE, ErrorCode.UNKNOWN_RECIPIENT, "204",
                    "Unknown recipient: MSH-6 '" + safe(parsed.receivingFacility()) + "' is not in the directory.");
        }
        communication.addRecipient(new Reference("Organization/" + recipient.get().getIdElement().getIdPart()));
        boolean hasPatient = hasPid(parsed.message());
        if (hasPatient) {
            Patient patient = patients.upsertFromHl7(AdtToPatient.map(parsed.message(), authorities), caller, remoteAddress);
            communication.setSubject(new Reference("Patient/" + patient.getIdElement().getIdPart()));
            communication.getContained().stream().filter(r -> r instanceof Observation)
                    .forEach(r -> ((Observation) r).setSubject(new Reference("Patient/" + patient.getIdElement().getIdPart())));
        }
        var outcome = messages.accept(communication, caller, remoteAddress);
        return Outcome.accepted("Communication/" + outcome.getId().getIdPart());
    }

    private static boolean hasPid(Message message) {
        try {
            Terser terser = new Terser(message);
            String value = terser.get("/.PID-3-1");
            String name = terser.get("/.PID-5-1");
            return (value != null && !value.isBlank()) || (name != null && !name.isBlank());
        } catch (HL7Exception e) {
            return false;
        }
    }

    private static String describe(Observation observation) {
        String name = observation.getCode().hasText() ? observation.getCode().getText()
                : observation.getCode().getCodingFirstRep().hasDisplay() ? observation.getCode().getCodingFirstRep().getDisplay()
                : observation.getCode().getCodingFirstRep().getCode();
        String value = observation.hasValueQuantity()
                ? observation.getValueQuantity().getValue().toPlainString() + " " + (observation.getValueQuantity().hasUnit()
                        ? observation.getValueQuantity().getUnit() : observation.getValueQuantity().getCode())
                : observation.hasValue() ? observation.getValue().primitiveValue() : "";
        return "- " + name + ": " + (value == null ? "" : value.trim());
    }

    /** {@code carerelay.hl7.sender-charsets.<MSH-4 or MSH-3>}: the charset of a sender that leaves MSH-18 empty. */
    private Charset senderCharset(Hl7Inbound.Parsed parsed) {
        java.util.Map<String, String> configured = settings.senderCharsets();
        if (configured == null || configured.isEmpty()) {
            return null;
        }
        String name = configured.get(parsed.sendingFacility() == null ? "" : parsed.sendingFacility());
        if (name == null) {
            name = configured.get(parsed.sendingApplication() == null ? "" : parsed.sendingApplication());
        }
        if (name == null) {
            return null;
        }
        try {
            return Charset.forName(name.trim());
        } catch (RuntimeException e) {
            log.warn("Ignoring unknown character set configured for an HL7 sender");
            return null;
        }
    }

    private static String msh18(Hl7Inbound.Parsed parsed) {
        try {
            return new Terser(parsed.message()).get("/MSH-18");
        } catch (HL7Exception e) {
            return null;
        }
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }

    private static Outcome unsupported(String type) {
        return new Outcome(AcknowledgmentCode.AR, ErrorCode.NOT_SUPPORTED, "200", "Message type " + type + " is not supported.");
    }

    private Optional<String> previousAck(String senderId, String controlId) {
        if (controlId == null || controlId.isBlank()) {
            return Optional.empty();
        }
        return jdbc.sql("select ack from hl7_inbound where sender_org = ? and control_id = ? and received_at > ?")
                .params(senderId, controlId, Timestamp.from(Instant.now().minus(settings.duplicateRetention())))
                .query(String.class).optional();
    }

    private byte[] ack(Hl7Inbound.Parsed parsed, Charset charset, Outcome outcome) {
        AcknowledgmentModes.Answer answer = AcknowledgmentModes.answer(parsed.acceptAckType(), parsed.applicationAckType(),
                outcome.code() == AcknowledgmentCode.AA);
        if (answer == AcknowledgmentModes.Answer.NONE) {
            return null;
        }
        try {
            return encodeAck(parsed, charset, outcome, answer).getBytes(charset);
        } catch (RuntimeException e) {
            return rawReject(null, outcome.error() == null ? ErrorCode.INTERNAL_ERROR : outcome.error(),
                    outcome.hl7Code() == null ? "207" : outcome.hl7Code(), outcome.text());
        }
    }

    /**
     * The ACK stored for an accepted message, sent for it (or again for a repeated MSH-10), unless
     * MSH-15/MSH-16 of this frame ask for no answer to a success.
     */
    private static byte[] storedAck(Hl7Inbound.Parsed parsed, Charset charset, String ack) {
        if (AcknowledgmentModes.answer(parsed.acceptAckType(), parsed.applicationAckType(), true)
                == AcknowledgmentModes.Answer.NONE) {
            return null;
        }
        return ack.getBytes(charset);
    }

    /**
     * ACK with MSA-2 = MSH-10 exactly as sent (raw text, escape sequences untouched), a random MSH-10
     * of its own, MSH-18 naming {@code charset} when the message had an MSH-18, and the fields
     * echoed from the message's header cut to their HL7 maximum length. As a commit ACK
     * ({@link AcknowledgmentModes.Answer#COMMIT}) with the codes CA/CE/CR, otherwise AA/AE/AR.
     */
    private String encodeAck(Hl7Inbound.Parsed parsed, Charset charset, Outcome outcome, AcknowledgmentModes.Answer answer) {
        try {
            Message message = parsed.message();
            message.getParser().getParserConfiguration().setIdGenerator(CONTROL_IDS);
            boolean enhanced = answer == AcknowledgmentModes.Answer.COMMIT;
            AcknowledgmentCode code = outcome.code();
            if (enhanced) {
                code = switch (code) {
                    case AA -> AcknowledgmentCode.CA;
                    case AE -> AcknowledgmentCode.CE;
                    // not stored because the database is unreachable: a commit error, the sender sends it again
                    default -> outcome.error() == ErrorCode.SERVICE_UNAVAILABLE ? AcknowledgmentCode.CE : AcknowledgmentCode.CR;
                };
            }
            Message ack = outcome.error() == null ? message.generateACK(code, null)
                    : message.generateACK(code, new HL7Exception(outcome.text()));
            Terser terser = new Terser(ack);
            terser.set("/MSH-3-1", "CareRelay");
            terser.set("/MSH-4-1", "CareRelay");
            truncateEchoedHeader(terser);
            if (!isBlank(msh18(parsed)) && Hl7Inbound.hl7Name(charset) != null) {
                // the name of the charset the ACK is encoded in: the message's, unless its label was overruled
                terser.set("/MSH-18", Hl7Inbound.hl7Name(charset));
            }
            if (outcome.text() != null) {
                terser.set("/MSA-3", truncate(outcome.text(), 80));
            }
            if (outcome.error() != null) {
                terser.set("/ERR-3-1", outcome.hl7Code());
                terser.set("/ERR-3-2", table0357Text(outcome.hl7Code()));
                terser.set("/ERR-3-3", "HL70357");
                terser.set("/ERR-4", "E");
                terser.set("/ERR-5-1", outcome.error().code());
                terser.set("/ERR-5-2", outcome.error().defaultText());
                terser.set("/ERR-5-3", ErrorCode.SYSTEM);
                terser.set("/ERR-8", truncate(outcome.text(), 250));
            }
            return withRawMsa2(message.getParser().encode(ack), parsed.rawControlId());
        } catch (Exception e) {
            throw new IllegalStateException("ACK could not be built", e);
        }
    }

    /** MSH-10 of every ACK: 20 random characters, unique without any state ({@link ControlIds}). */
    private static final ControlIds CONTROL_IDS = new ControlIds();

    /**
     * HL7 maximum lengths of the header components HAPI's {@code generateACK} copies from the
     * message (MSH-3/4 → MSH-5/6, MSH-9, MSH-11, MSH-12): HD-1 20, HD-2 199, HD-3 6; message code and
     * trigger event 3, structure 7; processing id and mode 1; version 5.
     */
    private static final java.util.Map<String, Integer> ECHOED_MAX_LENGTHS = java.util.Map.ofEntries(
            java.util.Map.entry("/MSH-5-1", 20), java.util.Map.entry("/MSH-5-2", 199), java.util.Map.entry("/MSH-5-3", 6),
            java.util.Map.entry("/MSH-6-1", 20), java.util.Map.entry("/MSH-6-2", 199), java.util.Map.entry("/MSH-6-3", 6),
            java.util.Map.entry("/MSH-9-1", 3), java.util.Map.entry("/MSH-9-2", 3), java.util.Map.entry("/MSH-9-3", 7),
            java.util.Map.entry("/MSH-11-1", 1), java.util.Map.entry("/MSH-11-2", 1), java.util.Map.entry("/MSH-12-1", 5));

    private static void truncateEchoedHeader(Terser terser) throws HL7Exception {
        for (var limit : ECHOED_MAX_LENGTHS.entrySet()) {
            String value = terser.get(limit.getKey());
            if (value != null && value.length() > limit.getValue()) {
                terser.set(limit.getKey(), value.substring(0, limit.getValue()));
            }
        }
    }

    /** MSA-2 longer than this (MSH-10's maximum length from v2.7 on) is cut. */
    static final int MSA2_MAX_LENGTH = 199;

    /**
     * {@code ack} with MSA-2 replaced by the message's MSH-10 as it was sent: HAPI's unescaped and
     * re-escaped value differs where the sender wrote an invalid escape sequence (a lone backslash),
     * and the sender matches the ACK to its message by the exact text.
     */
    static String withRawMsa2(String ack, String rawControlId) {
        if (rawControlId == null || ack.length() < 4) {
            return ack;
        }
        String raw = truncate(rawControlId, MSA2_MAX_LENGTH);
        String separator = String.valueOf(ack.charAt(3));
        String[] segments = ack.split("\r", -1);
        for (int i = 0; i < segments.length; i++) {
            if (segments[i].startsWith("MSA" + separator)) {
                String[] fields = segments[i].split(java.util.regex.Pattern.quote(separator), -1);
                if (fields.length > 2) {
                    fields[2] = raw;
                    segments[i] = String.join(separator, fields);
                }
                break;
            }
        }
        return String.join("\r", segments);
    }

    /**
     * HAPI's parsing and our mapping grow faster than linearly with the number of repetitions and
     * components in one field; real messages have a few hundred at most. Far more is refused before
     * parsing, so a crafted frame cannot tie up memory or a thread.
     */
    static final int MAX_DELIMITERS_PER_SEGMENT = 5_000;

    static boolean tooManyDelimiters(byte[] frame) {
        int count = 0;
        for (byte b : frame) {
            if (b == '\r' || b == '\n') {
                count = 0;
            } else if (b == '~' || b == '^' || b == '&') {
                if (++count > MAX_DELIMITERS_PER_SEGMENT) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The text of an HL7 table 0357 code (message error condition), as HAPI defines it; empty if unknown. */
    static String table0357Text(String hl7Code) {
        try {
            ca.uhn.hl7v2.ErrorCode code = ca.uhn.hl7v2.ErrorCode.errorCodeFor(Integer.parseInt(hl7Code));
            return code == null ? "" : code.getMessage();
        } catch (NumberFormatException e) {
            return "";
        }
    }

    /** An AR for frames that could not be parsed at all: built by hand, MSA-2 from the raw MSH if possible. */
    static byte[] rawReject(byte[] frame, ErrorCode error, String hl7Code, String text) {
        String controlId = "";
        String version = "2.5.1";
        String characterSet = "";
        if (frame != null) {
            String raw = new String(frame, StandardCharsets.ISO_8859_1);
            int msh = raw.indexOf("MSH");
            if (msh >= 0 && raw.length() > msh + 8) {
                char sep = raw.charAt(msh + 3);
                String[] fields = raw.substring(msh).split("[\\r\\n]", 2)[0].split(java.util.regex.Pattern.quote(String.valueOf(sep)), -1);
                boolean standardDelimiters = sep == '|' && fields.length > 1 && fields[1].startsWith("^~\\&");
                if (fields.length > 9) {
                    // as sent where it is written with the same delimiters as this ACK, else only its safe characters
                    controlId = truncate(standardDelimiters ? fields[9].replaceAll("[\\x00-\\x1F\\x7F-\\xFF]", "")
                            : fields[9].replaceAll("[^A-Za-z0-9._\\-]", ""), MSA2_MAX_LENGTH);
                }
                if (fields.length > 11 && fields[11].matches("2\\.[0-9.]{1,4}")) {
                    version = fields[11];
                }
                if (fields.length > 17 && standardDelimiters) {
                    String declared = fields[17].split("[\\^~]", 2)[0].trim();
                    characterSet = Hl7Inbound.charsetForHl7Name(declared).isPresent() ? declared : "";
                }
            }
        }
        String now = HL7_TS.format(Instant.now());
        // ASCII only: fits whatever MSH-18 the sender declared
        String safeText = text == null ? "" : text.replaceAll("[|^~\\\\&\\r\\n]", " ").replaceAll("[^\\x20-\\x7E]", "?");
        String ack = "MSH|^~\\&|CareRelay|CareRelay|||" + now + "||ACK|" + CONTROL_IDS.getID() + "|P|" + version
                + (characterSet.isEmpty() ? "" : "||||||" + characterSet) + "\r"
                + "MSA|AR|" + controlId + "|" + truncate(safeText, 80) + "\r"
                + "ERR|||" + hl7Code + "^" + table0357Text(hl7Code) + "^HL70357|E|" + error.code() + "^" + error.defaultText().replaceAll("[|^~\\\\&]", " ")
                + "^" + ErrorCode.SYSTEM + "|||" + truncate(safeText, 250) + "\r";
        return ack.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String truncate(String s, int max) {
        return s == null ? null : s.length() <= max ? s : s.substring(0, max);
    }

    private static String safe(String s) {
        return s == null ? "" : s.replaceAll("[^\\p{L}\\p{N}._\\- ]", "");
    }

}
