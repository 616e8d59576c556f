package org.carerelay.gateway.hl7;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.doCallRealMethod;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.reset;
import static org.mockito.Mockito.verify;

import ca.uhn.hl7v2.AcknowledgmentCode;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.AdviceWith;
import org.apache.camel.component.mllp.MllpConstants;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.impl.DefaultCamelContext;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.security.Caller;
import org.carerelay.routes.mllp.MllpConnection;
import org.carerelay.routes.mllp.MllpInboundRoute;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.dao.DataAccessResourceFailureException;

/**
 * The inbound route's wiring, without Spring, database or socket: real frame, ACK and refusal beans,
 * fake sender check, admission, mappings and acceptance. One test per message-type branch and per
 * onException clause; one Camel context for all, so each test runs in milliseconds.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Hl7InboundRouteTest {

    private static final String FRAME = "direct:frame";
    private static final int MAX_FRAME_BYTES = 4_000;

    private final Hl7Acks acks = new Hl7Acks();
    private final AuditService audit = mock(AuditService.class);
    private final Hl7SenderCheck senders = mock(Hl7SenderCheck.class);
    private final Hl7Admission admission = mock(Hl7Admission.class);
    private final Hl7Mappings mappings = mock(Hl7Mappings.class);
    private final Hl7Acceptance acceptance = mock(Hl7Acceptance.class);
    private CamelContext camel;
    private ProducerTemplate producer;

    @BeforeAll
    void startRoute() throws Exception {
        camel = new DefaultCamelContext();
        camel.addRoutes(new Hl7InboundRoute(new Hl7Frames(MAX_FRAME_BYTES, Map.of()), senders, admission, mappings,
                acceptance, acks, new Hl7Refusals(acks, audit)));
        AdviceWith.adviceWith(camel, Hl7InboundRoute.ROUTE_ID, route -> {
            route.replaceFromWith(FRAME);
            route.weaveById("hl7-adt").after().to("mock:adt");
            route.weaveById("hl7-mdm").after().to("mock:mdm");
            route.weaveById("hl7-oru").after().to("mock:oru");
            route.weaveById("hl7-accept").after().to("mock:accepted");
        });
        camel.start();
        producer = camel.createProducerTemplate();
    }

    @AfterAll
    void stopRoute() throws Exception {
        camel.close();
    }

    /** The fakes: the sender is authenticated, the message admitted, mapped and accepted. */
    @BeforeEach
    void fakeSteps() {
        reset(audit, senders, admission, mappings, acceptance);
        MockEndpoint.resetMocks(camel);
        doAnswer(call -> {
            call.getArgument(0, InboundHl7.class).caller(Caller.participant("org-sender"));
            return null;
        }).when(senders).authenticate(any());
        doAnswer(call -> {
            call.getArgument(0, InboundHl7.class).admit();
            return null;
        }).when(admission).admit(any());
        doAnswer(call -> {
            InboundHl7 in = call.getArgument(0, InboundHl7.class);
            in.acceptedAck(acks.toStore(in.parsed(), in.charset(), Hl7Outcome.accepted("Stored/1")));
            return null;
        }).when(acceptance).accept(any());
        doCallRealMethod().when(mappings).unsupported(any());
    }

    @Test
    void adtA01_takesTheAdtBranch_andIsAcceptedWithAa() throws Exception {
        expect("mock:adt", 1);
        expect("mock:accepted", 1);

        Exchange exchange = send(message("ADT^A01^ADT_A01", "CTRL-ADT", ""));

        assertMocks();
        assertThat(ack(exchange)).contains("MSA|AA|CTRL-ADT|Stored/1");
        verify(mappings, never()).mdm(any());
    }

    @Test
    void mdmT02_takesTheMdmBranch_andIsAcceptedWithAa() throws Exception {
        expect("mock:mdm", 1);
        expect("mock:accepted", 1);

        Exchange exchange = send(message("MDM^T02^MDM_T02", "CTRL-MDM", ""));

        assertMocks();
        assertThat(ack(exchange)).contains("MSA|AA|CTRL-MDM|Stored/1");
    }

    @Test
    void oruR01_takesTheOruBranch_andIsAcceptedWithAa() throws Exception {
        expect("mock:oru", 1);
        expect("mock:accepted", 1);

        Exchange exchange = send(message("ORU^R01^ORU_R01", "CTRL-ORU", ""));

        assertMocks();
        assertThat(ack(exchange)).contains("MSA|AA|CTRL-ORU|Stored/1");
    }

    @Test
    void otherMessageType_takesNoBranch_andIsRefusedWithArNotSupported() throws Exception {
        expect("mock:adt", 0);
        expect("mock:accepted", 0);

        Exchange exchange = send(message("SIU^S12^SIU_S12", "CTRL-SIU", ""));

        assertMocks();
        assertThat(ack(exchange)).contains("MSA|AR|CTRL-SIU|Message type SIU\\S\\S12 is not supported.")
                .contains("|not-supported^");
        verify(audit).record(any());
    }

    @Test
    void acceptedMessageWhoseHeaderAsksNoAnswer_getsNone() throws Exception {
        expect("mock:accepted", 1);

        Exchange exchange = send(message("ADT^A01^ADT_A01", "CTRL-SILENT", "NE|NE"));

        assertMocks();
        assertThat(exchange.getException()).isNull();
        assertThat(exchange.getProperty(MllpConstants.MLLP_ACKNOWLEDGEMENT)).isNull();
    }

    @Test
    void repeatedControlId_isAnsweredWithTheStoredAck_andNotHandledAgain() throws Exception {
        expect("mock:adt", 0);
        expect("mock:accepted", 0);
        doAnswer(call -> {
            call.getArgument(0, InboundHl7.class).previousAck("MSH|^~\\&|CareRelay|CareRelay|||x||ACK|1|P|2.5\rMSA|AA|CTRL-1|Stored/0\r");
            return null;
        }).when(admission).detectRepeat(any());

        Exchange exchange = send(message("ADT^A01^ADT_A01", "CTRL-1", ""));

        assertMocks();
        assertThat(ack(exchange)).contains("MSA|AA|CTRL-1|Stored/0");
        verify(admission, never()).admit(any());
    }

    @Test
    void frameOverTheLimit_isRefusedWithRawArPayloadTooLarge_beforeParsing() throws Exception {
        String big = message("ADT^A01^ADT_A01", "CTRL-BIG", "") + "NTE|1||" + "x".repeat(MAX_FRAME_BYTES) + "\r";

        Exchange exchange = send(big);

        assertThat(ack(exchange)).contains("MSA|AR|CTRL-BIG|").contains("|payload-too-large^");
        verify(senders, never()).authenticate(any());
    }

    @Test
    void unparsableFrame_isRefusedWithRawArInvalidRequest() throws Exception {
        Exchange exchange = send("MSH|^~\\&|A|B|C|D|20240101||XYZ|CTRL-BAD|P|9.9\r");

        assertThat(ack(exchange)).contains("MSA|AR|CTRL-BAD|").contains("ERR|||");
        verify(senders, never()).authenticate(any());
    }

    @Test
    void senderRefused_isAnsweredWithTheRefusalsCode_andNotAuditedAgain() throws Exception {
        doThrow(new Hl7Refusal(AcknowledgmentCode.AR, ErrorCode.UNKNOWN_SENDER, "204", "Unknown sender."))
                .when(senders).authenticate(any());

        Exchange exchange = send(message("ADT^A01^ADT_A01", "CTRL-WHO", ""));

        assertThat(ack(exchange)).contains("MSA|AR|CTRL-WHO|Unknown sender.").contains("|204^").contains("|unknown-sender^");
        verify(audit, never()).record(any());
    }

    @Test
    void mappingRefusesAValue_isAnsweredAeInvalidResource_andAudited() throws Exception {
        doThrow(new IllegalArgumentException("bad date")).when(mappings).adt(any());

        Exchange exchange = send(message("ADT^A01^ADT_A01", "CTRL-MAP", ""));

        assertThat(ack(exchange)).contains("MSA|AE|CTRL-MAP|The message content cannot be mapped: bad date")
                .contains("|invalid-resource^");
        verify(audit).record(any());
        verify(acceptance, never()).accept(any());
    }

    @Test
    void serviceRefusal_isAnsweredAe_forAClientError_andAr_forAServerError() throws Exception {
        doThrow(new GatewayException(ErrorCode.CONSENT_MISSING, "No consent.")).when(acceptance).accept(any());
        assertThat(ack(send(message("ADT^A01^ADT_A01", "CTRL-C1", "")))).contains("MSA|AE|CTRL-C1|No consent.")
                .contains("|consent-missing^");

        doThrow(new GatewayException(ErrorCode.INTERNAL_ERROR, "Broken.")).when(acceptance).accept(any());
        assertThat(ack(send(message("ADT^A01^ADT_A01", "CTRL-C2", "")))).contains("MSA|AR|CTRL-C2|Broken.");
    }

    @Test
    void databaseUnreachable_isAnsweredArServiceUnavailable_orCeInEnhancedMode() throws Exception {
        doThrow(new DataAccessResourceFailureException("connection refused")).when(acceptance).accept(any());

        assertThat(ack(send(message("ADT^A01^ADT_A01", "CTRL-DOWN", "")))).contains("MSA|AR|CTRL-DOWN|")
                .contains("|service-unavailable^");
        assertThat(ack(send(message("ADT^A01^ADT_A01", "CTRL-DOWN2", "AL|AL")))).contains("MSA|CE|CTRL-DOWN2|")
                .contains("|service-unavailable^");
        verify(audit, never()).failure(any(), any(), any(), any(), any(), any());
    }

    @Test
    void databaseUnreachableBeforeAdmission_isAnsweredArServiceUnavailable() throws Exception {
        doThrow(new DataAccessResourceFailureException("connection refused")).when(senders).authenticate(any());

        assertThat(ack(send(message("ADT^A01^ADT_A01", "CTRL-EARLY", "")))).contains("MSA|AR|CTRL-EARLY|")
                .contains("|service-unavailable^");
    }

    @Test
    void unexpectedFailureOfAnAdmittedMessage_isAnsweredArInternalError() throws Exception {
        doThrow(new IllegalStateException("bug")).when(acceptance).accept(any());

        assertThat(ack(send(message("ADT^A01^ADT_A01", "CTRL-BUG", "")))).contains("MSA|AR|CTRL-BUG|Internal error; nothing was stored.")
                .contains("|internal-error^");
    }

    @Test
    void unexpectedFailureBeforeAdmission_isNotTurnedIntoAnAck() throws Exception {
        doThrow(new IllegalStateException("bug")).when(senders).authenticate(any());

        Exchange exchange = send(message("ADT^A01^ADT_A01", "CTRL-BUG2", ""));

        assertThat(exchange.getException()).isInstanceOf(IllegalStateException.class);
        assertThat(exchange.getProperty(MllpConstants.MLLP_ACKNOWLEDGEMENT)).isNull();
    }

    private static String message(String type, String controlId, String ackTypes) {
        String header = "MSH|^~\\&|SENDAPP|SENDFAC|RECAPP|RECFAC|20240101120000||" + type + "|" + controlId + "|P|2.5"
                + (ackTypes.isEmpty() ? "" : "|||" + ackTypes);
        return header + "\r"
                + "EVN|A01|20240101120000\r"
                + "PID|1||12345^^^KH^PI||Muster^Erika||19600101|F\r"
                + "PV1|1|I\r";
    }

    private Exchange send(String frame) {
        return producer.send(FRAME, exchange -> {
            exchange.getIn().setBody(frame.getBytes(StandardCharsets.ISO_8859_1));
            exchange.setProperty(MllpInboundRoute.CONNECTION, MllpConnection.plain("127.0.0.1:40000"));
        });
    }

    private static String ack(Exchange exchange) {
        assertThat(exchange.getException()).isNull();
        byte[] ack = exchange.getProperty(MllpConstants.MLLP_ACKNOWLEDGEMENT, byte[].class);
        assertThat(ack).as("acknowledgement").isNotNull();
        return new String(ack, StandardCharsets.ISO_8859_1);
    }

    private void expect(String mock, int count) {
        camel.getEndpoint(mock, MockEndpoint.class).expectedMessageCount(count);
    }

    private void assertMocks() throws InterruptedException {
        MockEndpoint.assertIsSatisfied(camel);
    }
}
