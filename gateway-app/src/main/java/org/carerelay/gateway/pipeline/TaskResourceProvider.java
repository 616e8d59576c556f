package org.carerelay.gateway.pipeline;

import ca.uhn.fhir.rest.annotation.Count;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Offset;
import ca.uhn.fhir.rest.annotation.OptionalParam;
import ca.uhn.fhir.rest.annotation.Read;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import java.util.Date;
import java.util.List;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.store.SearchPage;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Task;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Invitations as FHIR Tasks ({@code requested} → {@code completed} when the organisation
 * registers, or {@code cancelled} when no message waits for it any more). Read-only. Visible to the operator, the invited organisation, and organisations that
 * have messages held for it.
 */
@Component
public class TaskResourceProvider implements IResourceProvider {

    public static final String CODE_SYSTEM = "https://fhir.carerelay.org/CodeSystem/task-code";

    private final Invitations invitations;
    private final JdbcClient jdbc;

    public TaskResourceProvider(Invitations invitations, JdbcClient jdbc) {
        this.invitations = invitations;
        this.jdbc = jdbc;
    }

    @Override
    public Class<Task> getResourceType() {
        return Task.class;
    }

    @Read
    public Task read(@IdParam IdType id, ServletRequestDetails request) {
        Invitations.Invitation invitation = invitations.find(id.getIdPart())
                .filter(i -> visible(i, Caller.of(request)))
                .orElseThrow(() -> new ResourceNotFoundException(id));
        return toTask(invitation);
    }

    /** {@code owner} = the invited organisation, {@code status} = requested, completed or cancelled. */
    @Search
    public IBundleProvider search(@OptionalParam(name = Task.SP_OWNER) ReferenceParam owner,
            @OptionalParam(name = Task.SP_STATUS) TokenParam status,
            @Count Integer count,
            @Offset Integer offset,
            ServletRequestDetails request) {
        Caller caller = Caller.of(request);
        if (!caller.isAdmin() && !caller.isParticipant()) {
            return SearchPage.of(List.of(), 0, 0, 0);
        }
        // the same rule as visible(), as SQL, so that the total and the pages agree
        String viewer = caller.isAdmin() ? null : caller.organizationId();
        String ownerId = owner == null ? null : owner.getIdPart();
        String state = status == null ? null : status.getValue();
        return SearchPage.of(SearchPage.offset(offset), SearchPage.pageSize(count, DEFAULT_COUNT, SearchPage.MAX_COUNT),
                () -> invitations.count(ownerId, state, viewer),
                (from, size) -> invitations.search(ownerId, state, viewer, size, from).stream().map(TaskResourceProvider::toTask).toList());
    }

    /** Page size without {@code _count} (all invitations of a typical directory on one page). */
    private static final int DEFAULT_COUNT = 200;

    private boolean visible(Invitations.Invitation invitation, Caller caller) {
        if (caller.isAdmin()) {
            return true;
        }
        if (!caller.isParticipant()) {
            return false;
        }
        if (caller.organizationId().equals(invitation.organizationId())) {
            return true;
        }
        return jdbc.sql("select count(*) from delivery d join message m on m.id = d.message_id "
                + "where d.recipient_org = ? and m.sender_org = ?")
                .params(invitation.organizationId(), caller.organizationId()).query(Integer.class).single() > 0;
    }

    static Task toTask(Invitations.Invitation invitation) {
        Task task = new Task();
        task.setId(invitation.id());
        task.setStatus("completed".equals(invitation.status()) ? Task.TaskStatus.COMPLETED
                : "cancelled".equals(invitation.status()) ? Task.TaskStatus.CANCELLED : Task.TaskStatus.REQUESTED);
        task.setIntent(Task.TaskIntent.ORDER);
        task.getCode().addCoding().setSystem(CODE_SYSTEM).setCode("invitation").setDisplay("Einladung zur Registrierung");
        task.setOwner(new Reference("Organization/" + invitation.organizationId()));
        task.setFocus(new Reference("Organization/" + invitation.organizationId()));
        task.setAuthoredOn(Date.from(invitation.createdAt()));
        task.setLastModified(Date.from(invitation.completedAt() != null ? invitation.completedAt() : invitation.lastSentAt()));
        task.getBusinessStatus().setText(("fax".equals(invitation.channel()) ? "per Fax an " : "per E-Mail an ")
                + invitation.destination() + (invitation.reminders() > 0 ? ", " + invitation.reminders() + " Erinnerung(en)" : ""));
        return task;
    }
}
