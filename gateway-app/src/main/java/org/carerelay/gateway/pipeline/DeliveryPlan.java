package org.carerelay.gateway.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.carerelay.routes.pipeline.WorkItem.Stage;

/**
 * Which work a message needs for one recipient, decided from facts already loaded: what the ledger
 * holds for the pair, whether the recipient is registered, the consent check and the recipient's
 * system endpoint. No database, no Spring: fan-out loads the facts, applies {@link Plan#write()}
 * to the ledger and hands {@link Plan#work()} to the broker. Running it again for the same pair
 * (a redelivered fan-out) plans only what is still left to do.
 *
 * <pre>
 * ledger         registered  consent  endpoint  → ledger write                    work
 * none           no          ok       –         insert invitation/held-invited    invite
 * none           no          refused  –         insert invitation/failed          –
 * none           yes         ok       fhir      insert fhir/queued                deliver-fhir, notify
 * none           yes         ok       mllp      insert mllp/queued                deliver-mllp, notify
 * none           yes         ok       none      insert pull/queued                notify
 * none           yes         refused  any       insert &lt;channel&gt;/failed            –
 * held-invited   yes         (as for none, but the row is updated instead of inserted)
 * held-invited   no          –        –         –                               invite
 * queued         –           –        –         –                               push by channel, notify unless notified
 * delivered      –           –        –         –                               notify unless notified
 * failed, notified                               –                               –
 * </pre>
 */
public final class DeliveryPlan {

    private DeliveryPlan() {
    }

    /** What the ledger holds for the pair. */
    public record Existing(DeliveryState state, Channel channel, boolean notified) {
    }

    /**
     * The facts for one recipient. {@code refusal} (the consent check's error code, empty when
     * allowed) and {@code systemChannel} (FHIR or MLLP when the recipient has an active system
     * endpoint) are only looked at when {@link #routesAnew} is true; the caller need not load them
     * otherwise.
     */
    public record Facts(Optional<Existing> existing, boolean registered, Optional<String> refusal,
            Optional<Channel> systemChannel) {

        /** Facts for a pair whose route is settled already (consent and endpoint are not asked again). */
        public static Facts known(Optional<Existing> existing, boolean registered) {
            return new Facts(existing, registered, Optional.empty(), Optional.empty());
        }
    }

    public enum Write {
        NONE, INSERT, UPDATE
    }

    /** The ledger write ({@code channel}, {@code state}, {@code detail} apply to INSERT and UPDATE) and the work items to send. */
    public record Plan(Write write, Channel channel, DeliveryState state, String detail, List<Stage> work) {

        static Plan only(List<Stage> work) {
            return new Plan(Write.NONE, null, null, null, List.copyOf(work));
        }
    }

    /**
     * True when the recipient's route is decided now (no ledger entry yet, or held for an
     * organisation that has registered since): then the consent and the endpoint are part of the facts.
     */
    public static boolean routesAnew(Optional<Existing> existing, boolean registered) {
        return existing.isEmpty() || existing.get().state() == DeliveryState.HELD_INVITED && registered;
    }

    public static Plan plan(Facts facts) {
        Optional<Existing> existing = facts.existing();
        if (routesAnew(existing, facts.registered())) {
            return route(facts);
        }
        Existing entry = existing.get();
        List<Stage> work = new ArrayList<>();
        switch (entry.state()) {
            case QUEUED -> {
                entry.channel().pushStage().ifPresent(work::add);
                if (!entry.notified()) {
                    work.add(Stage.NOTIFY);
                }
            }
            case DELIVERED -> {
                if (!entry.notified()) {
                    work.add(Stage.NOTIFY);
                }
            }
            case HELD_INVITED -> work.add(Stage.INVITE);
            case FAILED, NOTIFIED -> {
                // nothing left to do
            }
        }
        return Plan.only(work);
    }

    private static Plan route(Facts facts) {
        Write write = facts.existing().isEmpty() ? Write.INSERT : Write.UPDATE;
        String refusal = facts.refusal().orElse(null);
        if (!facts.registered()) {
            // only a new entry gets here: a held one is routed anew once its recipient registered
            return refusal != null
                    ? new Plan(write, Channel.INVITATION, DeliveryState.FAILED, refusal, List.of())
                    : new Plan(write, Channel.INVITATION, DeliveryState.HELD_INVITED, null, List.of(Stage.INVITE));
        }
        Channel channel = facts.systemChannel().orElse(Channel.PULL);
        if (refusal != null) {
            return new Plan(write, channel, DeliveryState.FAILED, refusal, List.of());
        }
        List<Stage> work = new ArrayList<>();
        channel.pushStage().ifPresent(work::add);
        work.add(Stage.NOTIFY);
        return new Plan(write, channel, DeliveryState.QUEUED, null, List.copyOf(work));
    }
}
