package org.carerelay.gateway.pipeline;

import java.time.Instant;
import java.sql.Timestamp;
import java.util.Optional;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/**
 * The Binaries a FHIR delivery has uploaded to its recipient's server ({@code Binary/<id>} as the
 * server named it), per message, recipient, attachment and base URL. A Binary upload is a plain
 * POST, which a server cannot recognise as a repeat: without this, an attempt whose Communication
 * create failed (or whose answer was lost) left its Binaries on the server, and the next attempt
 * uploaded them again. Each upload is recorded as soon as the server has answered it, in its own
 * transaction; the rows of a delivered message are removed.
 */
@Repository
public class UploadedBinaries {

    private final JdbcClient jdbc;

    public UploadedBinaries(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** The reference the recipient's server gave the attachment's Binary in an earlier attempt, if any. */
    public Optional<String> find(String messageId, String recipient, String binaryId, String baseUrl) {
        return jdbc.sql("select remote_ref from delivery_binary"
                        + " where message_id = ? and recipient_org = ? and binary_id = ? and base_url = ?")
                .params(messageId, recipient, binaryId, baseUrl).query(String.class).optional();
    }

    public void record(String messageId, String recipient, String binaryId, String baseUrl, String remoteRef) {
        jdbc.sql("insert into delivery_binary (message_id, recipient_org, binary_id, base_url, remote_ref, created_at)"
                        + " values (?, ?, ?, ?, ?, ?) on conflict (message_id, recipient_org, binary_id, base_url)"
                        + " do update set remote_ref = excluded.remote_ref, created_at = excluded.created_at")
                .params(messageId, recipient, binaryId, baseUrl, remoteRef, Timestamp.from(Instant.now())).update();
    }

    /** Forgets the uploads of a delivery that is done. */
    public void forget(String messageId, String recipient) {
        jdbc.sql("delete from delivery_binary where message_id = ? and recipient_org = ?").params(messageId, recipient).update();
    }
}
