package org.carerelay.gateway.hl7;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.carerelay.gateway.config.CareRelayProperties;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * The MSH-10 of every HL7v2 frame this gateway sends over MLLP, recorded (and committed) before the
 * frame leaves, so the inbound side recognises its own frames when they come back — an Endpoint
 * pointing at the gateway's own listener, directly or through a forwarding system that keeps
 * MSH-10 — and refuses them instead of turning one message into an endless chain. The record
 * lives in the shared database, so it holds across the nodes of a cluster, and it is specific to
 * this installation: frames from another CareRelay installation are not mistaken for our own.
 */
@Component
public class OwnFrames {

    private static final Duration PURGE_INTERVAL = Duration.ofHours(1);

    private final JdbcClient jdbc;
    private final Duration retention;
    private final AtomicLong lastPurge = new AtomicLong();

    public OwnFrames(JdbcClient jdbc, CareRelayProperties props) {
        this.jdbc = jdbc;
        this.retention = props.hl7().duplicateRetention();
    }

    /** Records a control id about to be sent; a retry of the same frame refreshes it. Call outside a transaction. */
    public void recordSent(String controlId) {
        Instant now = Instant.now();
        jdbc.sql("insert into hl7_sent (control_id, sent_at) values (?, ?) "
                + "on conflict (control_id) do update set sent_at = excluded.sent_at")
                .params(controlId.strip(), Timestamp.from(now)).update(); // as sentHere compares it
        long last = lastPurge.get();
        if (now.toEpochMilli() - last > PURGE_INTERVAL.toMillis() && lastPurge.compareAndSet(last, now.toEpochMilli())) {
            jdbc.sql("delete from hl7_sent where sent_at < ?").param(Timestamp.from(now.minus(retention))).update();
        }
    }

    /** Whether this gateway sent a frame with this MSH-10 within the retention time. */
    public boolean sentHere(String controlId) {
        if (controlId == null || controlId.isBlank()) {
            return false;
        }
        return jdbc.sql("select count(*) from hl7_sent where control_id = ? and sent_at > ?")
                .params(controlId.strip(), Timestamp.from(Instant.now().minus(retention))).query(Long.class).single() > 0;
    }
}
