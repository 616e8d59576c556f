package org.carerelay.gateway.hl7;

import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import org.apache.camel.Exchange;
import org.apache.camel.Predicate;
import org.apache.camel.RuntimeCamelException;
import org.apache.camel.builder.RouteBuilder;
import org.carerelay.fhir.hl7.Hl7InboundException;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.infra.Outages;
import org.carerelay.routes.mllp.MllpConnection;
import org.carerelay.routes.mllp.MllpInboundRoute;
import org.springframework.stereotype.Component;

/**
 * HL7v2 inbound, from the MLLP listeners ({@link MllpInboundRoute}) to the acknowledgement: frame
 * limits, decoding and parsing, sender authentication, repeat detection, admission (rate limit), one
 * branch per message type, acceptance in one transaction, ACK. Every refusal is an exception that an
 * {@code onException} clause below turns into the negative ACK ({@link Hl7Refusals}). The steps are
 * beans; the rules live there.
 */
@Component
public class Hl7InboundRoute extends RouteBuilder {

    /** Where the MLLP listeners hand their frames. */
    public static final String ENDPOINT = "direct:hl7-inbound";
    public static final String ROUTE_ID = "hl7-inbound";

    private final Hl7Frames frames;
    private final Hl7SenderCheck senders;
    private final Hl7Admission admission;
    private final Hl7Mappings mappings;
    private final Hl7Acceptance acceptance;
    private final Hl7Acks acks;
    private final Hl7Refusals refusals;

    public Hl7InboundRoute(Hl7Frames frames, Hl7SenderCheck senders, Hl7Admission admission, Hl7Mappings mappings,
            Hl7Acceptance acceptance, Hl7Acks acks, Hl7Refusals refusals) {
        this.frames = frames;
        this.senders = senders;
        this.admission = admission;
        this.mappings = mappings;
        this.acceptance = acceptance;
        this.acks = acks;
        this.refusals = refusals;
    }

    @Override
    public void configure() {
        // each clause matches the exception thrown, not one of its causes (Camel would look at the causes first)
        onException(Hl7Refusal.class).onWhen(thrown(Hl7Refusal.class)).handled(true)
                .bean(refusals, "refused(${body}, ${exception})").process(MllpInboundRoute::reply);
        onException(Hl7InboundException.class).onWhen(thrown(Hl7InboundException.class)).handled(true)
                .bean(refusals, "malformed(${body}, ${exception})").process(MllpInboundRoute::reply);
        onException(IllegalArgumentException.class).onWhen(admittedAndThrown(IllegalArgumentException.class)).handled(true)
                .bean(refusals, "unmappable(${body}, ${exception})").process(MllpInboundRoute::reply);
        onException(GatewayException.class).onWhen(admittedAndThrown(GatewayException.class)).handled(true)
                .bean(refusals, "refusedByService(${body}, ${exception})").process(MllpInboundRoute::reply);
        onException(BaseServerResponseException.class).onWhen(admittedAndThrown(BaseServerResponseException.class)).handled(true)
                .bean(refusals, "invalidResource(${body}, ${exception})").process(MllpInboundRoute::reply);
        onException(Exception.class).onWhen(Hl7InboundRoute::outage).handled(true)
                .bean(refusals, "unavailable(${body}, ${exception})").process(MllpInboundRoute::reply);
        onException(Exception.class).onWhen(Hl7InboundRoute::admittedAndUnexpected).handled(true)
                .bean(refusals, "internalError(${body}, ${exception})").process(MllpInboundRoute::reply);

        from(ENDPOINT).routeId(ROUTE_ID)
                .setBody(exchange -> new InboundHl7(exchange.getIn().getBody(byte[].class),
                        exchange.getProperty(MllpInboundRoute.CONNECTION, MllpConnection.class)))
                .bean(frames, "checkLimits").id("hl7-limits")
                .bean(frames, "parse").id("hl7-parse")
                .bean(senders, "authenticate").id("hl7-sender")
                .bean(admission, "detectRepeat").id("hl7-repeat")
                .filter(Hl7InboundRoute::repeat)
                    .bean(acks, "repeated").process(MllpInboundRoute::reply).stop()
                .end()
                .bean(admission, "admit").id("hl7-admit")
                .choice()
                    .when(messageType("ADT")).bean(mappings, "adt").id("hl7-adt")
                    .when(messageType("MDM")).bean(mappings, "mdm").id("hl7-mdm")
                    .when(messageType("ORU")).bean(mappings, "oru").id("hl7-oru")
                    .otherwise().bean(mappings, "unsupported").id("hl7-unsupported")
                .end()
                .bean(acceptance, "accept").id("hl7-accept")
                .bean(acks, "accepted").id("hl7-ack")
                .process(MllpInboundRoute::reply);
    }

    private static Predicate messageType(String type) {
        return exchange -> type.equals(inbound(exchange).messageType());
    }

    private static boolean repeat(Exchange exchange) {
        return inbound(exchange).isRepeat();
    }

    private static InboundHl7 inbound(Exchange exchange) {
        return exchange.getMessage().getBody(InboundHl7.class);
    }

    /** The exception a step threw (Camel's wrapper removed). */
    private static Throwable failure(Exchange exchange) {
        Throwable failure = exchange.getException();
        if (failure == null) {
            failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        }
        while (failure instanceof RuntimeCamelException && failure.getCause() != null) {
            failure = failure.getCause();
        }
        return failure;
    }

    private static Predicate thrown(Class<? extends Throwable> type) {
        return exchange -> type.isInstance(failure(exchange));
    }

    private static Predicate admittedAndThrown(Class<? extends Throwable> type) {
        return exchange -> admitted(exchange) && type.isInstance(failure(exchange));
    }

    private static boolean admitted(Exchange exchange) {
        return exchange.getMessage().getBody() instanceof InboundHl7 in && in.admitted();
    }

    /** The failures of an admitted message with an answer of their own, whatever their cause. */
    private static boolean answeredAsRefusal(Throwable failure) {
        return failure instanceof Hl7Refusal || failure instanceof Hl7InboundException
                || failure instanceof IllegalArgumentException || failure instanceof BaseServerResponseException;
    }

    /** The database or broker is unreachable (nothing was stored). */
    private static boolean outage(Exchange exchange) {
        Throwable failure = failure(exchange);
        return Outages.unavailable(failure).isPresent() && !(admitted(exchange) && answeredAsRefusal(failure));
    }

    private static boolean admittedAndUnexpected(Exchange exchange) {
        Throwable failure = failure(exchange);
        return admitted(exchange) && failure instanceof RuntimeException && !answeredAsRefusal(failure)
                && Outages.unavailable(failure).isEmpty();
    }
}
