package org.carerelay.gateway.pipeline;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.conversation.MessageRepository;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.registration.ParticipantRepository;
import org.carerelay.gateway.registration.RegistrationService;
import org.hl7.fhir.r4.model.Organization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Invitations of organisations that are in the directory but not registered: one invitation per
 * organisation (not per message), by fax-over-email or e-mail, with a registration code; reminders
 * after a configurable time. The invitation names who wrote, never the patient or the content.
 */
@Component
public class Invitations {

    private static final Logger log = LoggerFactory.getLogger(Invitations.class);

    public record Invitation(String id, String organizationId, String status, String channel, String destination,
            Instant createdAt, Instant lastSentAt, int reminders, Instant completedAt) {
    }

    private final JdbcClient jdbc;
    private final DeliveryLedger ledger;
    private final MessageRepository messages;
    private final ParticipantRepository participants;
    private final DirectoryService directory;
    private final RegistrationService registration;
    private final WorkQueue workQueue;
    private final TransactionTemplate tx;
    private final CareRelayProperties.Invitation settings;
    private final ConsentCheck consent;

    public Invitations(JdbcClient jdbc, DeliveryLedger ledger, MessageRepository messages, ParticipantRepository participants,
            DirectoryService directory, RegistrationService registration, WorkQueue workQueue, TransactionTemplate tx,
            CareRelayProperties props, ConsentCheck consent) {
        this.jdbc = jdbc;
        this.ledger = ledger;
        this.messages = messages;
        this.participants = participants;
        this.directory = directory;
        this.registration = registration;
        this.workQueue = workQueue;
        this.tx = tx;
        this.settings = props.invitation();
        this.consent = consent;
    }

    public void invite(String messageId, String recipient) {
        boolean registeredMeanwhile = Boolean.TRUE.equals(tx.execute(status -> {
            Optional<DeliveryLedger.Entry> entry = ledger.lock(messageId, recipient);
            if (entry.isEmpty() || entry.get().state() != DeliveryState.HELD_INVITED) {
                return false;
            }
            if (participants.isRegistered(recipient)) {
                return true;
            }
            // one open invitation per organisation; the lock serialises concurrent messages
            jdbc.sql("select pg_advisory_xact_lock(hashtext(?))").param("invite:" + recipient).query(Object.class).optional();
            if (open(recipient).isPresent()) {
                return false;
            }
            Organization org = directory.findOrganization(recipient).orElse(null);
            if (org == null || (org.hasActive() && !org.getActive())) {
                ledger.failed(messageId, recipient, "recipient not reachable: inactive directory entry");
                return false;
            }
            Optional<MessageRepository.Row> message = messages.find(messageId);
            // the consent may have been revoked since fan-out held the message (a redelivered work item,
            // a slow queue): no letter about a message that can no longer be released
            Optional<String> refusal = message.flatMap(m -> consent.refusal(m.subjectPatient(), m.sent(), m.senderOrg(), recipient));
            if (refusal.isPresent()) {
                ledger.failed(messageId, recipient, refusal.get());
                return false;
            }
            String sender = message.flatMap(m -> directory.findOrganization(m.senderOrg()))
                    .map(Organization::getName).orElse("Eine Einrichtung");
            Optional<RegistrationService.Invitation> sent = registration.sendInvitation(org, sender, false);
            if (sent.isEmpty()) {
                ledger.failed(messageId, recipient, "recipient not reachable: no fax number or e-mail address in the directory");
                return false;
            }
            Instant now = Instant.now();
            jdbc.sql("""
                    insert into invitation (id, organization_id, status, channel, destination, created_at, last_sent_at)
                    values (?, ?, 'requested', ?, ?, ?, ?)
                    """).params(UUID.randomUUID().toString(), recipient, sent.get().channel(), sent.get().destination(),
                    Timestamp.from(now), Timestamp.from(now)).update();
            log.info("Invited organisation {} by {}", recipient, sent.get().channel());
            return false;
        }));
        if (registeredMeanwhile) {
            workQueue.fanOut(messageId);
        }
    }

    public Optional<Invitation> open(String organizationId) {
        return jdbc.sql("select " + COLUMNS + " from invitation where organization_id = ? and status = 'requested'")
                .param(organizationId).query(Invitations::row).optional();
    }

    public int sendDueReminders() {
        Integer sent = tx.execute(status -> {
            Instant due = Instant.now().minus(settings.reminderAfter());
            List<Invitation> invitations = jdbc.sql("select " + COLUMNS + " from invitation where status = 'requested' "
                    + "and last_sent_at < ? and reminders < ? order by last_sent_at limit 50 for update skip locked")
                    .params(Timestamp.from(due), settings.maxReminders()).query(Invitations::row).list();
            int count = 0;
            for (Invitation invitation : invitations) {
                Organization org = directory.findOrganization(invitation.organizationId()).orElse(null);
                if (org == null || participants.isRegistered(invitation.organizationId())) {
                    continue;
                }
                if (registration.sendInvitation(org, null, true).isPresent()) {
                    jdbc.sql("update invitation set reminders = reminders + 1, last_sent_at = ? where id = ?")
                            .params(Timestamp.from(Instant.now()), invitation.id()).update();
                    count++;
                }
            }
            return count;
        });
        return sent == null ? 0 : sent;
    }

    public void complete(String organizationId) {
        jdbc.sql("update invitation set status = 'completed', completed_at = ? where organization_id = ? and status = 'requested'")
                .params(Timestamp.from(Instant.now()), organizationId).update();
    }

    /**
     * Invitations matching {@code organizationId} and {@code status} that {@code viewer} may see
     * (null: every invitation, for the operator): those of its own organisation, and those of
     * organisations it has sent messages to. Newest first.
     */
    public List<Invitation> search(String organizationId, String status, String viewer, int limit, int offset) {
        Filter filter = filter(organizationId, status, viewer);
        return jdbc.sql("select " + COLUMNS + " from invitation where " + filter.where()
                        + " order by created_at desc, id limit :limit offset :offset")
                .params(filter.params()).param("limit", limit).param("offset", offset).query(Invitations::row).list();
    }

    /** How many invitations {@link #search} finds over all pages. */
    public int count(String organizationId, String status, String viewer) {
        Filter filter = filter(organizationId, status, viewer);
        return jdbc.sql("select count(*) from invitation where " + filter.where()).params(filter.params())
                .query(Integer.class).single();
    }

    private record Filter(String where, Map<String, Object> params) {
    }

    private static Filter filter(String organizationId, String status, String viewer) {
        StringBuilder sql = new StringBuilder("true");
        Map<String, Object> params = new HashMap<>();
        if (viewer != null) {
            sql.append(" and (organization_id = :viewer or exists (select 1 from delivery d join message m on m.id = d.message_id"
                    + " where d.recipient_org = invitation.organization_id and m.sender_org = :viewer))");
            params.put("viewer", viewer);
        }
        if (organizationId != null) {
            sql.append(" and organization_id = :org");
            params.put("org", organizationId);
        }
        if (status != null) {
            sql.append(" and status = :status");
            params.put("status", status);
        }
        return new Filter(sql.toString(), params);
    }

    public Optional<Invitation> find(String id) {
        return jdbc.sql("select " + COLUMNS + " from invitation where id = ?").param(id).query(Invitations::row).optional();
    }

    private static final String COLUMNS =
            "id, organization_id, status, channel, destination, created_at, last_sent_at, reminders, completed_at";

    private static Invitation row(ResultSet rs, int i) throws SQLException {
        Timestamp completed = rs.getTimestamp(9);
        return new Invitation(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                rs.getTimestamp(6).toInstant(), rs.getTimestamp(7).toInstant(), rs.getInt(8),
                completed == null ? null : completed.toInstant());
    }
}
