package org.carerelay.gateway.hl7;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
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
 * Every such MSH-10 has the shape of {@link #controlId}, so an MSH-10 of any other shape (what
 * sending systems use) is known not to be ours without asking the database.
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

    /**
     * The MSH-10 of the frame that delivers message {@code messageId} to {@code recipient} (MSH-10
     * has at most 20 characters): {@code CR} and 18 hex digits of a SHA-256 over both, the same for
     * every attempt of that delivery.
     */
    public static String controlId(String messageId, String recipient) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest((messageId + "|" + recipient).getBytes(StandardCharsets.UTF_8));
            return "CR" + HexFormat.of().formatHex(digest, 0, 9).toUpperCase(Locale.ROOT);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether {@code controlId} (stripped) has the shape of {@link #controlId}, the only ids ever recorded here. */
    static boolean mayBeOwn(String controlId) {
        return OWN_SHAPE.matcher(controlId).matches();
    }

    private static final Pattern OWN_SHAPE = Pattern.compile("CR[0-9A-F]{18}");

    /** Records a control id about to be sent; a retry of the same frame refreshes it. Call outside a transaction. */
    public void recordSent(String controlId) {
        if (!mayBeOwn(controlId.strip())) {
            // sentHere looks only for ids of this shape
            throw new IllegalArgumentException("An MSH-10 this gateway sends has the shape of OwnFrames.controlId");
        }
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
        if (controlId == null || !mayBeOwn(controlId.strip())) {
            return false; // not of the shape this gateway sends: no need to look
        }
        return jdbc.sql("select count(*) from hl7_sent where control_id = ? and sent_at > ?")
                .params(controlId.strip(), Timestamp.from(Instant.now().minus(retention))).query(Long.class).single() > 0;
    }
}
