package org.carerelay.gateway.hl7;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.util.Terser;
import java.nio.charset.Charset;
import java.util.Map;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.hl7.Hl7Inbound;
import org.carerelay.fhir.hl7.Hl7InboundException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.carerelay.gateway.config.CareRelayProperties;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The first steps of HL7v2 inbound, before anything is looked up: the frame limits (size, and
 * separators per segment), then decoding (MSH-18, else the sender's configured character set, else
 * the default) and parsing (v2.1–v2.8.1). A frame that fails here is refused with a raw AR
 * ({@link Hl7Acks#rawReject}): there is no header to answer from. Plain class, no Spring.
 */
@Component
public class Hl7Frames {

    private static final Logger log = LoggerFactory.getLogger(Hl7Frames.class);

    /**
     * HAPI's parsing and our mapping grow faster than linearly with the number of repetitions and
     * components in one field; real messages have a few hundred at most. Far more is refused before
     * parsing, so a crafted frame cannot tie up memory or a thread.
     */
    static final int MAX_DELIMITERS_PER_SEGMENT = 5_000;

    private final int maxFrameBytes;
    private final Map<String, String> senderCharsets;

    @Autowired
    public Hl7Frames(CareRelayProperties props) {
        this(props.hl7().maxFrameBytes(), props.hl7().senderCharsets());
    }

    /**
     * @param senderCharsets {@code carerelay.hl7.sender-charsets}: MSH-4 or MSH-3 to the character
     *                       set of a sender that leaves MSH-18 empty
     */
    public Hl7Frames(int maxFrameBytes, Map<String, String> senderCharsets) {
        this.maxFrameBytes = maxFrameBytes;
        this.senderCharsets = senderCharsets == null ? Map.of() : senderCharsets;
    }

    /** Refuses a frame over the size limit or with too many separators in one segment. */
    public void checkLimits(InboundHl7 in) {
        byte[] frame = in.frame();
        if (frame.length > maxFrameBytes) {
            log.info("HL7 frame from {} rejected: {} bytes exceed the limit", in.remoteAddress(), frame.length);
            throw new Hl7Refusal(AcknowledgmentCode.AR, ErrorCode.PAYLOAD_TOO_LARGE, "207",
                    "The message has " + frame.length + " bytes; the limit is " + maxFrameBytes + ".");
        }
        if (tooManyDelimiters(frame)) {
            log.info("HL7 frame from {} rejected: too many repetitions or components in one segment", in.remoteAddress());
            throw new Hl7Refusal(AcknowledgmentCode.AR, ErrorCode.INVALID_REQUEST, "102",
                    "A segment has more than " + MAX_DELIMITERS_PER_SEGMENT + " repetition/component separators.");
        }
    }

    /**
     * Decodes and parses the frame. Fails only with {@link Hl7InboundException}: its own, or
     * {@code invalid-request} (102) for a frame the parser cannot read at all.
     */
    public void parse(InboundHl7 in) {
        try {
            Hl7Inbound.Decoded decoded = Hl7Inbound.decode(in.frame(), null);
            Hl7Inbound.Parsed parsed = Hl7Inbound.parse(decoded.er7());
            // a sender that leaves MSH-18 empty may have a configured default character set
            Charset senderDefault = senderCharset(parsed);
            if (senderDefault != null && isBlank(msh18(parsed)) && !senderDefault.equals(decoded.charset())) {
                decoded = Hl7Inbound.decode(in.frame(), senderDefault);
                parsed = Hl7Inbound.parse(decoded.er7());
            }
            in.parsed(decoded, parsed);
        } catch (Hl7InboundException e) {
            log.info("HL7 frame from {} rejected: {}", in.remoteAddress(), e.errorCode().code());
            throw e;
        } catch (RuntimeException e) {
            log.info("HL7 frame from {} rejected: unparsable ({})", in.remoteAddress(), e.getClass().getSimpleName());
            throw new Hl7InboundException(ErrorCode.INVALID_REQUEST, "102", "The message could not be parsed.");
        }
    }

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

    /** {@code carerelay.hl7.sender-charsets.<MSH-4 or MSH-3>}: the charset of a sender that leaves MSH-18 empty. */
    private Charset senderCharset(Hl7Inbound.Parsed parsed) {
        if (senderCharsets.isEmpty()) {
            return null;
        }
        String name = senderCharsets.get(parsed.sendingFacility() == null ? "" : parsed.sendingFacility());
        if (name == null) {
            name = senderCharsets.get(parsed.sendingApplication() == null ? "" : parsed.sendingApplication());
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

    static String msh18(Hl7Inbound.Parsed parsed) {
        try {
            return new Terser(parsed.message()).get("/MSH-18");
        } catch (HL7Exception e) {
            return null;
        }
    }

    private static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
