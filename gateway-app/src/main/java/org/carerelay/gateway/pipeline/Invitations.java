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
            // one open invitation per organisation: the lock serialises concurrent messages and the
            // reminders (taken before the ledger row, as the reminders take it)
            lockInvitationsOf(recipient);
            Optional<DeliveryLedger.Entry> entry = ledger.lock(messageId, recipient);
            if (entry.isEmpty() || entry.get().state() != DeliveryState.HELD_INVITED) {
                return false;
            }
            if (participants.isRegistered(recipient)) {
                return true;
            }
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
            Optional<String> refusal = refusal(message, recipient);
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

    /**
     * Reminders that are due, each in a transaction of its own (under the invitation's row lock, so
     * that of several nodes one sends it): one with a new code to an organisation for which a message
     * still waits; an invitation for which none waits any more is cancelled instead.
     */
    public int sendDueReminders() {
        Instant due = Instant.now().minus(settings.reminderAfter());
        List<String> ids = jdbc.sql("select id from invitation where status = 'requested' and last_sent_at < ? and reminders < ? "
                        + "order by last_sent_at limit 50")
                .params(Timestamp.from(due), settings.maxReminders()).query(String.class).list();
        int count = 0;
        for (String id : ids) {
            if (Boolean.TRUE.equals(tx.execute(status -> remind(id, due)))) {
                count++;
            }
        }
        return count;
    }

    private boolean remind(String id, Instant due) {
        Optional<Invitation> locked = jdbc.sql("select " + COLUMNS + " from invitation where id = ? and status = 'requested' "
                        + "and last_sent_at < ? and reminders < ? for update skip locked")
                .params(id, Timestamp.from(due), settings.maxReminders()).query(Invitations::row).optional();
        if (locked.isEmpty()) {
            return false; // another node has it, or it was sent, completed or cancelled meanwhile
        }
        Invitation invitation = locked.get();
        Organization org = directory.findOrganization(invitation.organizationId()).orElse(null);
        if (org == null || participants.isRegistered(invitation.organizationId())) {
            return false;
        }
        lockInvitationsOf(invitation.organizationId());
        if (!messageWaits(invitation.organizationId())) {
            // every message held for it failed meanwhile (a revoked consent, an operator's decision):
            // a reminder would say that a message waits when none does
            jdbc.sql("update invitation set status = 'cancelled' where id = ?").param(invitation.id()).update();
            log.info("Invitation of organisation {} cancelled: no message waits for it any more", invitation.organizationId());
            return false;
        }
        if (registration.sendInvitation(org, null, true).isEmpty()) {
            return false;
        }
        jdbc.sql("update invitation set reminders = reminders + 1, last_sent_at = ? where id = ?")
                .params(Timestamp.from(Instant.now()), invitation.id()).update();
        return true;
    }

    /** Serialises, per organisation, the first invitation and the reminders (until the transaction ends). */
    private void lockInvitationsOf(String organizationId) {
        jdbc.sql("select pg_advisory_xact_lock(hashtext(?))").param("invite:" + organizationId).query(Object.class).optional();
    }

    /**
     * Whether a message held for the organisation can still be released to it: a held message whose
     * consent no longer covers it (revoked since fan-out held it) is failed here, as the release would.
     */
    private boolean messageWaits(String organizationId) {
        boolean waits = false;
        for (String messageId : ledger.heldFor(organizationId)) {
            Optional<DeliveryLedger.Entry> entry = ledger.lock(messageId, organizationId);
            if (entry.isEmpty() || entry.get().state() != DeliveryState.HELD_INVITED) {
                continue;
            }
            Optional<String> refusal = refusal(messages.find(messageId), organizationId);
            if (refusal.isPresent()) {
                ledger.failed(messageId, organizationId, refusal.get());
            } else {
                waits = true;
            }
        }
        return waits;
    }

    /** Why the consent no longer lets the message reach the recipient, if it does not (the rule of fan-out). */
    private Optional<String> refusal(Optional<MessageRepository.Row> message, String recipient) {
        return message.flatMap(m -> consent.refusal(m.subjectPatient(), m.sent(), m.senderOrg(), recipient));
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
