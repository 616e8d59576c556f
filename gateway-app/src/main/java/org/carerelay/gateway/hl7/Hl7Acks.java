package org.carerelay.gateway.hl7;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.Version;
import ca.uhn.hl7v2.model.GenericMessage;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.parser.ModelClassFactory;
import ca.uhn.hl7v2.util.ReflectionUtil;
import ca.uhn.hl7v2.util.Terser;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.hl7.Hl7Inbound;
import org.springframework.stereotype.Component;

/**
 * Builds the acknowledgements of HL7v2 inbound (the README's acknowledgement rules): the mode from
 * MSH-15/MSH-16 ({@link AcknowledgmentModes}), MSA-2 = MSH-10 exactly as sent, a random MSH-10 of its
 * own, MSH-18 naming the charset the ACK is encoded in, ERR with table 0357 and the catalogue code;
 * and a raw AR for frames without a usable header. Returns the encoded bytes, or {@code null} where
 * no answer is to be sent. A Spring component without dependencies; its methods are plain.
 */
@Component
public class Hl7Acks {

    private static final DateTimeFormatter HL7_TS = DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneId.of("Europe/Berlin"));
    /**
     * MSH-7 of an ACK built from the message's header, as HAPI's {@code CommonTS.toHl7TSFormat}
     * writes it: {@code yyyyMMddHHmmss}, the milliseconds after a dot without trailing zeros (none
     * when they are 0), the offset as {@code +HHMM}.
     */
    private static final DateTimeFormatter HL7_TS_WITH_OFFSET = new DateTimeFormatterBuilder().appendPattern("yyyyMMddHHmmss")
            .appendFraction(ChronoField.MILLI_OF_SECOND, 0, 3, true).appendPattern("xx").toFormatter();

    /** MSH-10 of every ACK: 20 random characters, unique without any state ({@link ControlIds}). */
    private static final ControlIds CONTROL_IDS = new ControlIds();

    /** MSA-2 longer than this (MSH-10's maximum length from v2.7 on) is cut. */
    static final int MSA2_MAX_LENGTH = 199;

    /**
     * HL7 maximum lengths of the header components HAPI's {@code generateACK} copies from the
     * message (MSH-3/4 → MSH-5/6, MSH-9, MSH-11, MSH-12): HD-1 20, HD-2 199, HD-3 6; message code and
     * trigger event 3, structure 7; processing id and mode 1; version 5.
     */
    private static final Map<String, Integer> ECHOED_MAX_LENGTHS = Map.ofEntries(
            Map.entry("/MSH-5-1", 20), Map.entry("/MSH-5-2", 199), Map.entry("/MSH-5-3", 6),
            Map.entry("/MSH-6-1", 20), Map.entry("/MSH-6-2", 199), Map.entry("/MSH-6-3", 6),
            Map.entry("/MSH-9-1", 3), Map.entry("/MSH-9-2", 3), Map.entry("/MSH-9-3", 7),
            Map.entry("/MSH-11-1", 1), Map.entry("/MSH-11-2", 1), Map.entry("/MSH-12-1", 5));

    /** The ACK of an accepted message: the very ACK stored with it for repeats. */
    public byte[] accepted(InboundHl7 in) {
        return storedAck(in.parsed(), in.charset(), in.acceptedAck());
    }

    /** The answer to a repeated MSH-10: the ACK stored with the original message. */
    public byte[] repeated(InboundHl7 in) {
        return storedAck(in.parsed(), in.charset(), in.previousAck());
    }

    /** A negative ACK: from the message's header once it is parsed, otherwise the raw AR. */
    public byte[] refused(InboundHl7 in, Hl7Outcome outcome) {
        if (in.parsed() == null) {
            return rawReject(in.frame(), outcome.error(), outcome.hl7Code(), outcome.text());
        }
        return ack(in.parsed(), in.charset(), outcome);
    }

    /** The ACK stored with an accepted message: the answer its header asks for a success, a commit ACK if none. */
    String toStore(Hl7Inbound.Parsed parsed, Charset charset, Hl7Outcome outcome) {
        AcknowledgmentModes.Answer answer = AcknowledgmentModes.answer(parsed.acceptAckType(), parsed.applicationAckType(), true);
        return encodeAck(parsed, charset, outcome,
                answer == AcknowledgmentModes.Answer.NONE ? AcknowledgmentModes.Answer.COMMIT : answer);
    }

    /** The ACK for {@code outcome}, or {@code null} where MSH-15/MSH-16 ask no answer; raw AR if it cannot be built. */
    byte[] ack(Hl7Inbound.Parsed parsed, Charset charset, Hl7Outcome outcome) {
        AcknowledgmentModes.Answer answer = AcknowledgmentModes.answer(parsed.acceptAckType(), parsed.applicationAckType(),
                outcome.isAccepted());
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
    static byte[] storedAck(Hl7Inbound.Parsed parsed, Charset charset, String ack) {
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
    private static String encodeAck(Hl7Inbound.Parsed parsed, Charset charset, Hl7Outcome outcome, AcknowledgmentModes.Answer answer) {
        try {
            Message message = parsed.message();
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
            Message ack = generateAck(message, code);
            if (outcome.error() != null) {
                new HL7Exception(outcome.text()).populateResponse(ack, code, 0); // as HAPI's generateACK with an exception
            }
            Terser terser = new Terser(ack);
            terser.set("/MSH-3-1", "CareRelay");
            terser.set("/MSH-4-1", "CareRelay");
            truncateEchoedHeader(terser);
            String msh18 = Hl7Frames.msh18(parsed);
            if (msh18 != null && !msh18.isBlank() && Hl7Inbound.hl7Name(charset) != null) {
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

    /**
     * What HAPI's {@code Message.generateACK(code, null)} builds (its {@code instantiateACK} and
     * {@code fillResponseHeader}, field by field: the ACK structure of the message's version, MSH-1/2
     * and MSH-11/12 from the message, MSH-3..6 swapped, MSH-9 {@code ACK^<event>}, with the structure
     * {@code ACK} when the ACK's own structures are v2.5 or later, MSA-1/2), with MSH-10 from
     * {@link #CONTROL_IDS} and MSH-7 written by
     * {@link #hl7Timestamp}: HAPI formats the time through {@code CommonTS} (a {@code String.format}
     * per component), which was three fifths of building an ACK and about a tenth of the gateway's
     * CPU time for an accepted ADT^A08 in a profile of the bench command.
     */
    static Message generateAck(Message message, AcknowledgmentCode code) throws HL7Exception, IOException {
        Message out = instantiateAck(message);
        Segment mshIn = (Segment) message.get("MSH");
        Segment mshOut = (Segment) out.get("MSH");
        Terser.set(mshOut, 1, 0, 1, 1, Terser.get(mshIn, 1, 0, 1, 1));
        Terser.set(mshOut, 2, 0, 1, 1, Terser.get(mshIn, 2, 0, 1, 1));
        Terser.set(mshOut, 7, 0, 1, 1, hl7Timestamp(ZonedDateTime.now()));
        Terser.set(mshOut, 9, 0, 1, 1, "ACK");
        Terser.set(mshOut, 9, 0, 2, 1, Terser.get(mshIn, 9, 0, 2, 1));
        String ackVersion = out.getVersion();
        Version version = ackVersion == null ? null : Version.versionOf(ackVersion);
        if (version != null && !Version.V25.isGreaterThan(version)) {
            Terser.set(mshOut, 9, 0, 3, 1, "ACK");
        }
        Terser.set(mshOut, 10, 0, 1, 1, CONTROL_IDS.getID());
        Terser.set(mshOut, 11, 0, 1, 1, Terser.get(mshIn, 11, 0, 1, 1));
        String versionId = Terser.get(mshIn, 12, 0, 1, 1);
        if (versionId == null || versionId.isBlank()) {
            versionId = Version.highestAvailableVersionOrDefault().getVersion();
        }
        Terser.set(mshOut, 12, 0, 1, 1, versionId);
        Terser.set(mshOut, 3, 0, 1, 1, Terser.get(mshIn, 5, 0, 1, 1));
        Terser.set(mshOut, 4, 0, 1, 1, Terser.get(mshIn, 6, 0, 1, 1));
        Terser.set(mshOut, 5, 0, 1, 1, Terser.get(mshIn, 3, 0, 1, 1));
        Terser.set(mshOut, 6, 0, 1, 1, Terser.get(mshIn, 4, 0, 1, 1));
        Segment msa = (Segment) out.get("MSA");
        Terser.set(msa, 1, 0, 1, 1, code.name());
        Terser.set(msa, 2, 0, 1, 1, Terser.get(mshIn, 10, 0, 1, 1));
        return out;
    }

    /**
     * The ACK structure of the message's version; a generic one where HAPI has no structures for it
     * or the parser's factory makes generic messages, with MSA and ERR added.
     */
    private static Message instantiateAck(Message message) throws HL7Exception {
        ModelClassFactory factory = message.getParser().getFactory();
        String messageVersion = message.getVersion();
        Version version = messageVersion == null ? null : Version.versionOf(messageVersion);
        Message out = null;
        if (version != null && version.available()) {
            Class<? extends Message> type = factory.getMessageClass("ACK", version.getVersion(), false);
            if (type != null) {
                out = ReflectionUtil.instantiateMessage(type, factory);
            }
        }
        if (out == null) {
            out = new GenericMessage.UnknownVersion(factory);
        }
        if (out instanceof GenericMessage) {
            List<String> names = List.of(out.getNames());
            if (!names.contains("MSA")) {
                out.addNonstandardSegment("MSA");
            }
            if (!names.contains("ERR")) {
                out.addNonstandardSegment("ERR");
            }
        }
        out.setParser(message.getParser());
        return out;
    }

    /** A time as HAPI's {@code CommonTS.toHl7TSFormat} writes it ({@link #HL7_TS_WITH_OFFSET}). */
    static String hl7Timestamp(ZonedDateTime time) {
        return HL7_TS_WITH_OFFSET.format(time);
    }

    private static void truncateEchoedHeader(Terser terser) throws HL7Exception {
        for (var limit : ECHOED_MAX_LENGTHS.entrySet()) {
            String value = terser.get(limit.getKey());
            if (value != null && value.length() > limit.getValue()) {
                terser.set(limit.getKey(), value.substring(0, limit.getValue()));
            }
        }
    }

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
                String[] fields = segments[i].split(Pattern.quote(separator), -1);
                if (fields.length > 2) {
                    fields[2] = raw;
                    segments[i] = String.join(separator, fields);
                }
                break;
            }
        }
        return String.join("\r", segments);
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
                String[] fields = raw.substring(msh).split("[\\r\\n]", 2)[0].split(Pattern.quote(String.valueOf(sep)), -1);
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

    static String truncate(String s, int max) {
        return s == null ? null : s.length() <= max ? s : s.substring(0, max);
    }
}
