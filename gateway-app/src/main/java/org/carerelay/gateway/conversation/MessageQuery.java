package org.carerelay.gateway.conversation;

import ca.uhn.fhir.rest.param.DateRangeParam;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.carerelay.gateway.store.SearchPage;

/** Search criteria for messages, turned into SQL over the message index (never the content). */
public record MessageQuery(String id, String patient, String sender, String recipient, String category,
        DateRangeParam sent, String partOf, Boolean unread, Integer count, Integer offset) {

    record Sql(String where, Map<String, Object> params, int limit, int offset) {
    }

    Sql toSql(String viewer) {
        List<String> where = new ArrayList<>();
        Map<String, Object> params = new HashMap<>();
        if (id != null) {
            where.add("m.id = :id");
            params.put("id", id);
        }
        if (patient != null) {
            where.add("m.subject_patient = :patient");
            params.put("patient", patient);
        }
        if (sender != null) {
            where.add("m.sender_org = :sender");
            params.put("sender", sender);
        }
        if (recipient != null) {
            where.add("exists (select 1 from message_recipient qr where qr.message_id = m.id and qr.organization_id = :recipient)");
            params.put("recipient", recipient);
        }
        if (category != null) {
            where.add("m.category = :category");
            params.put("category", category);
        }
        if (sent != null) {
            if (sent.getLowerBoundAsInstant() != null) {
                where.add("m.sent >= :sentFrom");
                params.put("sentFrom", new Timestamp(sent.getLowerBoundAsInstant().getTime()));
            }
            if (sent.getUpperBoundAsInstant() != null) {
                where.add("m.sent <= :sentTo");
                params.put("sentTo", new Timestamp(sent.getUpperBoundAsInstant().getTime()));
            }
        }
        if (partOf != null) {
            where.add("m.conversation_id = :conversation");
            params.put("conversation", partOf);
        }
        if (Boolean.TRUE.equals(unread)) {
            where.add("exists (select 1 from message_recipient ur where ur.message_id = m.id and ur.organization_id = :viewer and ur.read_at is null)");
        }
        return new Sql(String.join(" and ", where), params, SearchPage.pageSize(count),
                SearchPage.offset(offset));
    }
}
