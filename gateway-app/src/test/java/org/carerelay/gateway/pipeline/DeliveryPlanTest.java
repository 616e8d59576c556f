package org.carerelay.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.carerelay.gateway.pipeline.Channel.FHIR;
import static org.carerelay.gateway.pipeline.Channel.INVITATION;
import static org.carerelay.gateway.pipeline.Channel.MLLP;
import static org.carerelay.gateway.pipeline.Channel.PULL;
import static org.carerelay.gateway.pipeline.DeliveryPlan.Write.INSERT;
import static org.carerelay.gateway.pipeline.DeliveryPlan.Write.NONE;
import static org.carerelay.gateway.pipeline.DeliveryPlan.Write.UPDATE;
import static org.carerelay.gateway.pipeline.DeliveryState.DELIVERED;
import static org.carerelay.gateway.pipeline.DeliveryState.FAILED;
import static org.carerelay.gateway.pipeline.DeliveryState.HELD_INVITED;
import static org.carerelay.gateway.pipeline.DeliveryState.NOTIFIED;
import static org.carerelay.gateway.pipeline.DeliveryState.QUEUED;
import static org.carerelay.routes.pipeline.WorkItem.Stage.DELIVER_FHIR;
import static org.carerelay.routes.pipeline.WorkItem.Stage.DELIVER_MLLP;
import static org.carerelay.routes.pipeline.WorkItem.Stage.INVITE;
import static org.carerelay.routes.pipeline.WorkItem.Stage.NOTIFY;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.carerelay.gateway.pipeline.DeliveryPlan.Existing;
import org.carerelay.gateway.pipeline.DeliveryPlan.Facts;
import org.carerelay.gateway.pipeline.DeliveryPlan.Plan;
import org.carerelay.routes.pipeline.WorkItem.Stage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Every row of the delivery plan: which ledger write and which work items one recipient gets. */
class DeliveryPlanTest {

    private static final String REFUSED = "consent-revoked";

    private static Optional<Existing> none() {
        return Optional.empty();
    }

    private static Optional<Existing> entry(DeliveryState state, Channel channel, boolean notified) {
        return Optional.of(new Existing(state, channel, notified));
    }

    private static Facts facts(Optional<Existing> existing, boolean registered, String refusal, Channel systemChannel) {
        return new Facts(existing, registered, Optional.ofNullable(refusal), Optional.ofNullable(systemChannel));
    }

    private static Plan write(DeliveryPlan.Write write, Channel channel, DeliveryState state, String detail, Stage... work) {
        return new Plan(write, channel, state, detail, List.of(work));
    }

    private static Plan only(Stage... work) {
        return new Plan(NONE, null, null, null, Arrays.asList(work));
    }

    static Stream<Arguments> table() {
        return Stream.of(
                // a recipient seen for the first time
                Arguments.of("new, not registered → held, invited",
                        facts(none(), false, null, null), write(INSERT, INVITATION, HELD_INVITED, null, INVITE)),
                Arguments.of("new, not registered, consent refused → failed, no invitation",
                        facts(none(), false, REFUSED, null), write(INSERT, INVITATION, FAILED, REFUSED)),
                Arguments.of("new, registered with a FHIR endpoint → pushed over FHIR and notified",
                        facts(none(), true, null, FHIR), write(INSERT, FHIR, QUEUED, null, DELIVER_FHIR, NOTIFY)),
                Arguments.of("new, registered with an MLLP endpoint → pushed over MLLP and notified",
                        facts(none(), true, null, MLLP), write(INSERT, MLLP, QUEUED, null, DELIVER_MLLP, NOTIFY)),
                Arguments.of("new, registered without a system endpoint → pull, notified",
                        facts(none(), true, null, null), write(INSERT, PULL, QUEUED, null, NOTIFY)),
                Arguments.of("new, registered with an endpoint, consent refused → failed on that channel",
                        facts(none(), true, REFUSED, MLLP), write(INSERT, MLLP, FAILED, REFUSED)),
                Arguments.of("new, registered without endpoint, consent refused → failed as pull",
                        facts(none(), true, REFUSED, null), write(INSERT, PULL, FAILED, REFUSED)),
                // held for an organisation that has registered since
                Arguments.of("held, registered since, FHIR endpoint → routed anew over FHIR",
                        facts(entry(HELD_INVITED, INVITATION, false), true, null, FHIR), write(UPDATE, FHIR, QUEUED, null, DELIVER_FHIR, NOTIFY)),
                Arguments.of("held, registered since, MLLP endpoint → routed anew over MLLP",
                        facts(entry(HELD_INVITED, INVITATION, false), true, null, MLLP), write(UPDATE, MLLP, QUEUED, null, DELIVER_MLLP, NOTIFY)),
                Arguments.of("held, registered since, no endpoint → pull",
                        facts(entry(HELD_INVITED, INVITATION, false), true, null, null), write(UPDATE, PULL, QUEUED, null, NOTIFY)),
                Arguments.of("held, registered since, consent revoked meanwhile → failed",
                        facts(entry(HELD_INVITED, INVITATION, false), true, REFUSED, FHIR), write(UPDATE, FHIR, FAILED, REFUSED)),
                Arguments.of("held, still not registered → invitation again (it sends one per organisation)",
                        facts(entry(HELD_INVITED, INVITATION, false), false, null, null), only(INVITE)),
                // a fan-out redelivered after the ledger was written: only what is left
                Arguments.of("queued FHIR, not notified → push and notify",
                        facts(entry(QUEUED, FHIR, false), true, null, null), only(DELIVER_FHIR, NOTIFY)),
                Arguments.of("queued MLLP, notified → push only",
                        facts(entry(QUEUED, MLLP, true), true, null, null), only(DELIVER_MLLP)),
                Arguments.of("queued pull, not notified → notify",
                        facts(entry(QUEUED, PULL, false), true, null, null), only(NOTIFY)),
                Arguments.of("queued pull, notified → nothing",
                        facts(entry(QUEUED, PULL, true), true, null, null), only()),
                Arguments.of("delivered, not notified → notify",
                        facts(entry(DELIVERED, FHIR, false), true, null, null), only(NOTIFY)),
                Arguments.of("delivered and notified → nothing",
                        facts(entry(DELIVERED, MLLP, true), true, null, null), only()),
                Arguments.of("failed → nothing",
                        facts(entry(FAILED, FHIR, false), true, null, null), only()),
                Arguments.of("notified pull → nothing",
                        facts(entry(NOTIFIED, PULL, true), true, null, null), only()),
                Arguments.of("queued, recipient deregistered since → still pushed (the attempt checks it again)",
                        facts(entry(QUEUED, FHIR, false), false, null, null), only(DELIVER_FHIR, NOTIFY)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void plan(String row, Facts facts, Plan expected) {
        assertThat(DeliveryPlan.plan(facts)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void consentAndEndpointAreOnlyAskedWhenTheRouteIsDecidedNow(String row, Facts facts, Plan expected) {
        // for a settled route the facts the caller did not load do not change the plan
        if (!DeliveryPlan.routesAnew(facts.existing(), facts.registered())) {
            Facts withMore = new Facts(facts.existing(), facts.registered(), Optional.of(REFUSED), Optional.of(MLLP));
            assertThat(DeliveryPlan.plan(withMore)).isEqualTo(expected);
        } else {
            assertThat(expected.write()).isIn(INSERT, UPDATE);
        }
    }

    @ParameterizedTest
    @EnumSource(DeliveryState.class)
    void everyStateHasTheTextTheDatabaseAndDeliveryStatusUse(DeliveryState state) {
        assertThat(DeliveryState.ofText(state.text())).isSameAs(state);
    }

    @ParameterizedTest
    @EnumSource(Channel.class)
    void everyChannelHasTheTextTheDatabaseUses(Channel channel) {
        assertThat(Channel.ofText(channel.text())).isSameAs(channel);
    }

    @Test
    void statesAndChannelsKeepTheirStoredText() {
        assertThat(Arrays.stream(DeliveryState.values()).map(DeliveryState::text))
                .containsExactly("queued", "delivered", "failed", "held-invited", "notified");
        assertThat(Arrays.stream(Channel.values()).map(Channel::text)).containsExactly("fhir", "mllp", "pull", "invitation");
    }
}
