package org.carerelay.gateway.conversation;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Repository;

/** Stored messages: encrypted content plus the index columns for routing, search and visibility. */
@Repository
public class MessageRepository {

    /** One stored message as read back: encrypted content plus what the gateway knows about it. */
    public record Row(String id, String conversationId, String senderOrg, String subjectPatient, String category,
            Instant sent, String keyId, byte[] content, Instant maskedSince, Instant readAt) {
        public boolean masked() {
            return maskedSince != null;
        }
    }

    /** What a new message's index looks like. */
    public record NewMessage(String id, String conversationId, String senderOrg, String subjectPatient, String category,
            Instant sent, String inResponseTo, String keyId, byte[] content, Collection<String> recipients,
            Collection<String> binaryIds) {
    }

    static final String VISIBLE = "(m.sender_org = :viewer or exists (select 1 from message_recipient vr "
            + "where vr.message_id = m.id and vr.organization_id = :viewer))";
    private static final String COLUMNS = "m.id, m.conversation_id, m.sender_org, m.subject_patient, m.category, m.sent, m.key_id, m.content, "
            + "(select min(cr.revoked_at) from consent_revocation cr where cr.patient_id = m.subject_patient and cr.revoked_at >= m.sent) as masked_since, "
            + "(select rr.read_at from message_recipient rr where rr.message_id = m.id and rr.organization_id = :viewer) as read_at";

    private final JdbcClient jdbc;

    public MessageRepository(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    public void insert(NewMessage m) {
        Set<String> participants = new LinkedHashSet<>();
        participants.add(m.senderOrg());
        participants.addAll(m.recipients());
        // one statement for the message and its rows in the other tables, whatever the number of
        // recipients and attachments (each statement is a round trip to the database)
        jdbc.sql("""
                with m as (
                    insert into message (id, conversation_id, sender_org, subject_patient, category, sent, in_response_to, key_id, content)
                    values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning id),
                recipients as (insert into message_recipient (message_id, organization_id) select m.id, unnest(?::text[]) from m),
                attachments as (insert into message_attachment (message_id, binary_id) select m.id, unnest(?::text[]) from m
                    on conflict do nothing)
                insert into conversation_participant (conversation_id, organization_id) select ?, unnest(?::text[]) from m
                on conflict do nothing
                """).params(m.id(), m.conversationId(), m.senderOrg(), m.subjectPatient(), m.category(),
                Timestamp.from(m.sent()), m.inResponseTo(), m.keyId(), m.content(),
                m.recipients().toArray(new String[0]), m.binaryIds().toArray(new String[0]),
                m.conversationId(), participants.toArray(new String[0])).update();
    }

    /** The message if {@code viewer} sent or received it. */
    public Optional<Row> findVisible(String id, String viewer) {
        return jdbc.sql("select " + COLUMNS + " from message m where m.id = :id and " + VISIBLE)
                .param("id", id).param("viewer", viewer).query(MessageRepository::row).optional();
    }

    /**
     * Whether {@code viewer} sent or received the message, and since when it is masked (the first
     * revocation of its patient's consent after it was sent; null: not masked).
     */
    public Optional<Optional<Instant>> visibility(String id, String viewer) {
        return jdbc.sql("select (select min(cr.revoked_at) from consent_revocation cr where cr.patient_id = m.subject_patient"
                        + " and cr.revoked_at >= m.sent) from message m where m.id = :id and " + VISIBLE)
                .param("id", id).param("viewer", viewer)
                .query((rs, i) -> Optional.ofNullable(rs.getTimestamp(1)).map(Timestamp::toInstant)).optional();
    }

    /** Any message, for the operator's {@code $unmask}. */
    public Optional<Row> find(String id) {
        return jdbc.sql("select " + COLUMNS + " from message m where m.id = :id")
                .param("id", id).param("viewer", "").query(MessageRepository::row).optional();
    }

    public List<Row> search(String where, Map<String, Object> params, String viewer, int limit, int offset) {
        String sql = "select " + COLUMNS + " from message m where " + VISIBLE
                + (where.isBlank() ? "" : " and " + where)
                + " order by m.sent desc, m.id limit :limit offset :offset";
        return jdbc.sql(sql).params(params).param("viewer", viewer).param("limit", limit).param("offset", offset)
                .query(MessageRepository::row).list();
    }

    /** How many messages {@link #search} finds with {@code where} for {@code viewer}, over all pages. */
    public int count(String where, Map<String, Object> params, String viewer) {
        String sql = "select count(*) from message m where " + VISIBLE + (where.isBlank() ? "" : " and " + where);
        return jdbc.sql(sql).params(params).param("viewer", viewer).query(Integer.class).single();
    }

    /**
     * The conversations {@code viewer} takes part in (over the messages it sent or received), newest
     * last message first.
     */
    public List<ConversationSummary> conversations(ConversationSummary.Filter filter, String viewer, int limit, int offset) {
        var params = new HashMap<String, Object>();
        String grouped = conversationGroups(filter, params);
        String sql = "select g.conversation_id, g.patient, g.last_sent, g.messages, g.unread from (" + grouped + ") g"
                + " order by g.last_sent desc, g.conversation_id limit :limit offset :offset";
        List<ConversationSummary> rows = jdbc.sql(sql).params(params).param("viewer", viewer).param("limit", limit)
                .param("offset", offset)
                .query((rs, i) -> new ConversationSummary(rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant(),
                        rs.getInt(4), rs.getInt(5), List.of()))
                .list();
        return rows.stream().map(r -> new ConversationSummary(r.conversationId(), r.patientId(), r.lastSent(), r.messages(),
                r.unread(), partnersOf(r.conversationId(), viewer))).toList();
    }

    /** How many conversations {@link #conversations} finds over all pages. */
    public int countConversations(ConversationSummary.Filter filter, String viewer) {
        var params = new HashMap<String, Object>();
        String grouped = conversationGroups(filter, params);
        return jdbc.sql("select count(*) from (" + grouped + ") g").params(params).param("viewer", viewer)
                .query(Integer.class).single();
    }

    private static String conversationGroups(ConversationSummary.Filter filter, Map<String, Object> params) {
        StringBuilder where = new StringBuilder(VISIBLE);
        if (filter.patient() != null) {
            where.append(" and m.subject_patient = :patient");
            params.put("patient", filter.patient());
        }
        if (filter.partner() != null) {
            // the partner took part in a message the viewer sees of that conversation
            where.append(" and exists (select 1 from message pm where pm.conversation_id = m.conversation_id and ")
                    .append(VISIBLE.replace("m.", "pm."))
                    .append(" and (pm.sender_org = :partner or exists (select 1 from message_recipient pr"
                            + " where pr.message_id = pm.id and pr.organization_id = :partner)))");
            params.put("partner", filter.partner());
        }
        return "select m.conversation_id, max(m.subject_patient) as patient, max(m.sent) as last_sent, count(*) as messages,"
                + " count(*) filter (where exists (select 1 from message_recipient ur where ur.message_id = m.id"
                + " and ur.organization_id = :viewer and ur.read_at is null)) as unread"
                + " from message m where " + where + " group by m.conversation_id"
                + (filter.unreadOnly() ? " having count(*) filter (where exists (select 1 from message_recipient ur2"
                        + " where ur2.message_id = m.id and ur2.organization_id = :viewer and ur2.read_at is null)) > 0" : "");
    }

    /** The other organisations of the messages {@code viewer} sees in the conversation. */
    public List<String> partnersOf(String conversationId, String viewer) {
        return jdbc.sql("select distinct o.org from (select m.sender_org as org from message m where m.conversation_id = :c and "
                        + VISIBLE + " union select r.organization_id from message_recipient r join message m on m.id = r.message_id"
                        + " where m.conversation_id = :c and " + VISIBLE + ") o where o.org <> :viewer order by o.org")
                .param("c", conversationId).param("viewer", viewer).query(String.class).list();
    }

    /** A message and its recipients, ordered as {@link #recipientsOf} orders them. */
    public record Addressed(Row message, List<String> recipients) {
    }

    /** {@link #find} and {@link #recipientsOf} in one statement. */
    public Optional<Addressed> findAddressed(String id) {
        return jdbc.sql("select " + COLUMNS + ", array(select r.organization_id from message_recipient r "
                        + "where r.message_id = m.id order by r.organization_id) from message m where m.id = :id")
                .param("id", id).param("viewer", "")
                .query((rs, i) -> new Addressed(row(rs, i), List.of((String[]) rs.getArray(11).getArray()))).optional();
    }

    public List<String> recipientsOf(String messageId) {
        return jdbc.sql("select organization_id from message_recipient where message_id = ? order by organization_id")
                .param(messageId).query(String.class).list();
    }

    public boolean isRecipient(String messageId, String organizationId) {
        return jdbc.sql("select count(*) from message_recipient where message_id = ? and organization_id = ?")
                .params(messageId, organizationId).query(Integer.class).single() > 0;
    }

    public Instant markRead(String messageId, String organizationId) {
        Instant now = Instant.now();
        jdbc.sql("update message_recipient set read_at = ? where message_id = ? and organization_id = ? and read_at is null")
                .params(Timestamp.from(now), messageId, organizationId).update();
        return jdbc.sql("select read_at from message_recipient where message_id = ? and organization_id = ?")
                .params(messageId, organizationId).query(Timestamp.class).single().toInstant();
    }

    private static Row row(ResultSet rs, int i) throws SQLException {
        Timestamp masked = rs.getTimestamp(9);
        Timestamp read = rs.getTimestamp(10);
        return new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                rs.getTimestamp(6).toInstant(), rs.getString(7), rs.getBytes(8),
                masked == null ? null : masked.toInstant(), read == null ? null : read.toInstant());
    }
}
