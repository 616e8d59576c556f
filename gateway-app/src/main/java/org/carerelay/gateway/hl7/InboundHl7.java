package org.carerelay.gateway.hl7;

import java.nio.charset.Charset;
import org.carerelay.fhir.hl7.Hl7Inbound;
import org.carerelay.gateway.security.Caller;
import org.carerelay.routes.mllp.MllpConnection;

/**
 * One inbound HL7v2 frame on its way through the inbound route: what each step has learned so far.
 * Created from the frame and its connection; the steps fill in the decoded message, the
 * authenticated sender, a stored ACK of a repeat and what the message-type branch mapped.
 */
public final class InboundHl7 {

    private final byte[] frame;
    private final MllpConnection connection;
    private Hl7Inbound.Decoded decoded;
    private Hl7Inbound.Parsed parsed;
    private Caller caller;
    private String previousAck;
    private boolean admitted;
    private Hl7Mappings.Mapped mapped;
    private String acceptedAck;

    public InboundHl7(byte[] frame, MllpConnection connection) {
        this.frame = frame;
        this.connection = connection;
    }

    public byte[] frame() {
        return frame;
    }

    public MllpConnection connection() {
        return connection;
    }

    public String remoteAddress() {
        return connection.remoteAddress();
    }

    /** Null until the frame has been decoded and parsed. */
    public Hl7Inbound.Parsed parsed() {
        return parsed;
    }

    public Charset charset() {
        return decoded == null ? null : decoded.charset();
    }

    /** MSH-9-1, e.g. {@code ADT}; null before parsing. */
    public String messageType() {
        return parsed == null ? null : parsed.messageType();
    }

    void parsed(Hl7Inbound.Decoded decoded, Hl7Inbound.Parsed parsed) {
        this.decoded = decoded;
        this.parsed = parsed;
    }

    /** The authenticated sender; null before sender authentication. */
    public Caller caller() {
        return caller;
    }

    void caller(Caller caller) {
        this.caller = caller;
    }

    /** The ACK stored for an earlier message with the same sender and MSH-10, if this one repeats it. */
    public String previousAck() {
        return previousAck;
    }

    void previousAck(String previousAck) {
        this.previousAck = previousAck;
    }

    public boolean isRepeat() {
        return previousAck != null;
    }

    /**
     * True once the message passed every check before its content is handled (sender, repeat, rate
     * limit): from here on every outcome is audited as the message's outcome.
     */
    public boolean admitted() {
        return admitted;
    }

    void admit() {
        this.admitted = true;
    }

    public Hl7Mappings.Mapped mapped() {
        return mapped;
    }

    void mapped(Hl7Mappings.Mapped mapped) {
        this.mapped = mapped;
    }

    /** The ACK stored with the accepted message (for repeats), null before acceptance. */
    public String acceptedAck() {
        return acceptedAck;
    }

    void acceptedAck(String acceptedAck) {
        this.acceptedAck = acceptedAck;
    }
}
