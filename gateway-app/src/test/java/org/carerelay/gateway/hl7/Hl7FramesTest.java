package org.carerelay.gateway.hl7;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.hl7.Hl7InboundException;
import org.carerelay.routes.mllp.MllpConnection;
import org.junit.jupiter.api.Test;

/** The limit and charset step of HL7 inbound, without Spring or Camel. */
class Hl7FramesTest {

    private static final String ADT = "MSH|^~\\&|APP|PFLEGE1|CR|CR|20240101120000||ADT^A08^ADT_A01|C1|P|2.5\r"
            + "PID|1||123^^^KH^PI||Müller^Jürgen\r";

    @Test
    void frameOverTheLimit_isRefusedPayloadTooLarge_withTheLimitInTheText() {
        Hl7Frames frames = new Hl7Frames(100, Map.of());
        InboundHl7 in = inbound(ADT + "NTE|1||" + "x".repeat(100) + "\r", StandardCharsets.UTF_8);

        assertThatThrownBy(() -> frames.checkLimits(in)).isInstanceOfSatisfying(Hl7Refusal.class, refusal -> {
            assertThat(refusal.outcome().error()).isEqualTo(ErrorCode.PAYLOAD_TOO_LARGE);
            assertThat(refusal.outcome().text()).endsWith("the limit is 100.");
        });
    }

    @Test
    void segmentWithMoreSeparatorsThanTheLimit_isRefusedBeforeParsing() {
        Hl7Frames frames = new Hl7Frames(1_000_000, Map.of());
        InboundHl7 in = inbound(ADT + "NTE|1||" + "a~".repeat(Hl7Frames.MAX_DELIMITERS_PER_SEGMENT + 1) + "\r",
                StandardCharsets.UTF_8);

        assertThatThrownBy(() -> frames.checkLimits(in)).isInstanceOfSatisfying(Hl7Refusal.class,
                refusal -> assertThat(refusal.outcome().hl7Code()).isEqualTo("102"));
        assertThat(Hl7Frames.tooManyDelimiters(("NTE|" + "^".repeat(Hl7Frames.MAX_DELIMITERS_PER_SEGMENT) + "\r"
                + "NTE|" + "^".repeat(Hl7Frames.MAX_DELIMITERS_PER_SEGMENT)).getBytes(StandardCharsets.US_ASCII))).isFalse();
    }

    @Test
    void senderWithoutMsh18_isDecodedInItsConfiguredCharset() {
        Hl7Frames frames = new Hl7Frames(1_000_000, Map.of("PFLEGE1", "ISO-8859-1"));
        InboundHl7 in = inbound(ADT, StandardCharsets.ISO_8859_1);

        frames.parse(in);

        assertThat(in.charset()).isEqualTo(StandardCharsets.ISO_8859_1);
        assertThat(in.parsed().message().toString()).contains("Müller");
        assertThat(in.messageType()).isEqualTo("ADT");
    }

    @Test
    void unreadableFrame_failsWithInvalidRequest_andNoParsedHeader() {
        Hl7Frames frames = new Hl7Frames(1_000_000, Map.of());
        InboundHl7 in = inbound("this is no HL7 message at all", StandardCharsets.UTF_8);

        assertThatThrownBy(() -> frames.parse(in)).isInstanceOf(Hl7InboundException.class);
        assertThat(in.parsed()).isNull();
    }

    private static InboundHl7 inbound(String frame, Charset charset) {
        return new InboundHl7(frame.getBytes(charset), MllpConnection.plain("127.0.0.1:1"));
    }
}
