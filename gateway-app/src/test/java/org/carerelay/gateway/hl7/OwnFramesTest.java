package org.carerelay.gateway.hl7;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The shape test that spares inbound frames the database lookup of {@link OwnFrames#sentHere}. */
class OwnFramesTest {

    @Test
    void everyControlIdTheGatewaySends_hasTheShapeThatIsLookedUp() {
        for (int i = 0; i < 10_000; i++) {
            String id = OwnFrames.controlId(UUID.randomUUID().toString(), UUID.randomUUID().toString());
            assertThat(id).hasSize(20);
            assertThat(OwnFrames.mayBeOwn(id)).as(id).isTrue();
        }
    }

    @Test
    void theSameDelivery_getsTheSameControlId_anotherRecipientAnother() {
        assertThat(OwnFrames.controlId("m1", "org-a")).isEqualTo(OwnFrames.controlId("m1", "org-a"))
                .isNotEqualTo(OwnFrames.controlId("m1", "org-b"));
    }

    @Test
    void controlIdsOfOtherShapes_areNeverOurs() {
        String own = OwnFrames.controlId("m1", "org-a");
        assertThat(OwnFrames.mayBeOwn(own.toLowerCase())).isFalse();
        assertThat(OwnFrames.mayBeOwn(own.substring(0, 19))).isFalse();
        assertThat(OwnFrames.mayBeOwn(own + "0")).isFalse();
        assertThat(OwnFrames.mayBeOwn("XX" + own.substring(2))).isFalse();
        assertThat(OwnFrames.mayBeOwn(own.substring(0, 19) + "G")).isFalse();
        assertThat(OwnFrames.mayBeOwn("MSG00001")).isFalse();
        assertThat(OwnFrames.mayBeOwn("20261206101500123456")).isFalse();
        assertThat(OwnFrames.mayBeOwn("")).isFalse();
    }
}
