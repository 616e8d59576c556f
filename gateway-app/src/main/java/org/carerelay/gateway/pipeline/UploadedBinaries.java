package org.carerelay.gateway.pipeline;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The Binaries a FHIR delivery has uploaded to its recipient's server ({@code Binary/<id>} as the
 * server named it), per message, recipient, attachment, base URL and form (plain, or enveloped for
 * one certificate). A Binary upload is a plain POST, which a server cannot recognise as a repeat:
 * without this, an attempt whose Communication create failed (or whose answer was lost) left its
 * Binaries on the server, and the next attempt uploaded them again. Each upload is recorded as soon as
 * the server has answered it, in its own transaction. The rows of a delivery go when it ends; a row is
 * not reused after {@link #REUSE_WINDOW} (a server may clean up Binaries nothing refers to), and a
 * later upload removes such rows.
 */
@Repository
public class UploadedBinaries {

    static final Duration REUSE_WINDOW = Duration.ofDays(1);
    /** Rows past {@link #REUSE_WINDOW} are removed by an upload at most this often (as {@code OwnFrames} does). */
    private static final Duration PURGE_INTERVAL = Duration.ofMinutes(10);

    private final AtomicLong lastPurge = new AtomicLong();

    private final JdbcClient jdbc;

    public UploadedBinaries(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** The reference the recipient's server gave the attachment's Binary in an earlier attempt, if any. */
    public Optional<String> find(String messageId, String recipient, String binaryId, String baseUrl, String form) {
        return jdbc.sql("select remote_ref from delivery_binary where message_id = ? and recipient_org = ? and binary_id = ?"
                        + " and base_url = ? and form = ? and created_at > ?")
                .params(messageId, recipient, binaryId, baseUrl, form, Timestamp.from(Instant.now().minus(REUSE_WINDOW)))
                .query(String.class).optional();
    }

    public void record(String messageId, String recipient, String binaryId, String baseUrl, String form, String remoteRef) {
        Instant now = Instant.now();
        jdbc.sql("insert into delivery_binary (message_id, recipient_org, binary_id, base_url, form, remote_ref, created_at)"
                        + " values (?, ?, ?, ?, ?, ?, ?) on conflict (message_id, recipient_org, binary_id, base_url, form)"
                        + " do update set remote_ref = excluded.remote_ref, created_at = excluded.created_at")
                .params(messageId, recipient, binaryId, baseUrl, form, remoteRef, Timestamp.from(now)).update();
        long last = lastPurge.get();
        if (now.toEpochMilli() - last > PURGE_INTERVAL.toMillis() && lastPurge.compareAndSet(last, now.toEpochMilli())) {
            jdbc.sql("delete from delivery_binary where created_at < ?").param(Timestamp.from(now.minus(REUSE_WINDOW))).update();
        }
    }

    /** Forgets the uploads of a delivery: it is done, or its server refused what referred to them. */
    public void forget(String messageId, String recipient) {
        jdbc.sql("delete from delivery_binary where message_id = ? and recipient_org = ?").params(messageId, recipient).update();
    }
}
