package org.carerelay.gateway.conversation;

import java.time.Instant;
import java.util.List;

/**
 * One conversation as an organisation sees it: only over the messages it sent or received (the
 * same visibility as a Communication search).
 *
 * @param conversationId the header message's id
 * @param patientId      the conversation's patient, or null for general networking
 * @param lastSent       when the newest visible message was sent
 * @param messages       how many messages of it the organisation sees
 * @param unread         how many of them it received and has not marked read
 * @param partners       the other organisations of those messages (senders and recipients), sorted
 */
public record ConversationSummary(String conversationId, String patientId, Instant lastSent, int messages, int unread,
        List<String> partners) {

    /** Filters of the conversation list; each may be null (no filter). */
    public record Filter(String patient, String partner, boolean unreadOnly) {
    }

    /** One page of the list, newest first, and how many conversations match over all pages. */
    public record Page(List<ConversationSummary> items, int total) {
    }
}
