package org.carerelay.gateway.visibility;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.ResponseDetails;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.visibility.VisibilityRules.Decision;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.Test;

/**
 * The consent interceptor as HAPI runs it on a response (start, outgoing response, then the
 * audit hook), with fixed decisions in place of the database: what reaches the caller, what the
 * search page says about its size, and what the read audit records.
 */
class VisibilityInterceptorTest {

    private static final RestfulServer SERVER = new RestfulServer(FhirContext.forR4Cached());

    /** Decides from a fixed list: ids in {@code hidden} are not visible, ids in {@code masked} masked. */
    private static final class FixedVisibility extends Visibility {
        private final Set<String> hidden;
        private final Set<String> masked;

        FixedVisibility(Set<String> hidden, Set<String> masked) {
            super(null, null, null);
            this.hidden = hidden;
            this.masked = masked;
        }

        @Override
        public Shown show(Caller caller, IBaseResource resource) {
            String id = resource.getIdElement().getIdPart();
            if (hidden.contains(id)) {
                return new Shown(Decision.NOT_VISIBLE, null);
            }
            if (masked.contains(id)) {
                Communication copy = new Communication();
                copy.setId(resource.getIdElement().getValue());
                copy.addPayload().setContent(new StringType("masked"));
                return new Shown(Decision.MASKED, copy);
            }
            return new Shown(Decision.SEE, resource);
        }
    }

    /** Records the audit instead of writing it. */
    private static final class RecordedAudit extends AuditService {
        final List<String> events = new ArrayList<>();

        RecordedAudit() {
            super(null, null, null);
        }

        @Override
        public void searchPage(String subtype, Caller caller, String clientAddress, List<? extends IBaseResource> page) {
            if (page.isEmpty()) {
                events.add(subtype);
            }
            page.forEach(r -> events.add(subtype + " " + r.fhirType() + "/" + r.getIdElement().getIdPart()));
        }

        @Override
        public void success(String subtype, AuditEventAction action, Caller caller, String clientAddress, String entity) {
            events.add(subtype + " " + entity);
        }
    }

    private final RecordedAudit audit = new RecordedAudit();

    private VisibilityInterceptor interceptor(Set<String> hidden, Set<String> masked) {
        return new VisibilityInterceptor(new FixedVisibility(hidden, masked), audit, null);
    }

    private static SystemRequestDetails request(RestOperationTypeEnum operation, String id) {
        SystemRequestDetails request = new SystemRequestDetails();
        request.setServer(SERVER);
        request.setFhirContext(SERVER.getFhirContext());
        request.setRestOperationType(operation);
        request.setResourceName("Communication");
        if (id != null) {
            request.setId(new IdType("Communication", id));
        }
        Caller.participant("org-a").attachTo(request);
        return request;
    }

    private static Bundle page(int total, String... ids) {
        Bundle bundle = new Bundle().setType(Bundle.BundleType.SEARCHSET).setTotal(total);
        for (String id : ids) {
            Communication message = new Communication();
            message.setId(new IdType("Communication", id));
            bundle.addEntry().setFullUrl("https://gw.example/fhir/Communication/" + id).setResource(message);
        }
        bundle.addLink().setRelation("self").setUrl("https://gw.example/fhir/Communication?_count=2");
        bundle.addLink().setRelation("next").setUrl("https://gw.example/fhir/Communication?_count=2&_offset=2");
        return bundle;
    }

    private static ResponseDetails respond(VisibilityInterceptor interceptor, SystemRequestDetails request, IBaseResource body) {
        interceptor.interceptPreHandled(request);
        ResponseDetails response = new ResponseDetails(body);
        interceptor.interceptOutgoingResponse(request, response);
        interceptor.responseShown(request, response);
        return response;
    }

    @Test
    void searchPageEveryEntryOfWhichIsShown_keepsItsTotalAndLinks_andAuditsEachEntry() {
        ResponseDetails response = respond(interceptor(Set.of(), Set.of()), request(RestOperationTypeEnum.SEARCH_TYPE, null),
                page(5, "a", "b"));

        Bundle shown = (Bundle) response.getResponseResource();
        assertThat(shown.getTotal()).isEqualTo(5); // HAPI's consent interceptor clears it; it is put back
        assertThat(shown.getEntry()).extracting(e -> e.getResource().getIdElement().getIdPart()).containsExactly("a", "b");
        assertThat(shown.getLink("next")).isNotNull();
        assertThat(audit.events).containsExactly("message-search Communication/a", "message-search Communication/b");
    }

    @Test
    void searchPageWithAnEntryTheRulesWithhold_revealsNeitherTheEntryNorThroughTotalOrNextLinkThatItExists() {
        ResponseDetails response = respond(interceptor(Set.of("b"), Set.of()), request(RestOperationTypeEnum.SEARCH_TYPE, null),
                page(5, "a", "b"));

        Bundle shown = (Bundle) response.getResponseResource();
        assertThat(shown.getEntry()).extracting(Bundle.BundleEntryComponent::getFullUrl)
                .containsExactly("https://gw.example/fhir/Communication/a");
        assertThat(shown.hasTotal()).isFalse();
        assertThat(shown.getLink("next")).isNull();
        assertThat(audit.events).containsExactly("message-search Communication/a");
    }

    @Test
    void emptySearchPage_isAuditedOnce_withoutAnEntity() {
        ResponseDetails response = respond(interceptor(Set.of(), Set.of()), request(RestOperationTypeEnum.SEARCH_TYPE, null),
                page(0));

        assertThat(((Bundle) response.getResponseResource()).getTotal()).isZero();
        assertThat(audit.events).containsExactly("message-search");
    }

    @Test
    void readOfAMessageWhoseConsentWasRevokedSince_showsTheMaskedForm_andIsAuditedAsMasked() {
        Communication original = new Communication();
        original.setId(new IdType("Communication", "m1"));
        original.addPayload().setContent(new StringType("original text"));

        ResponseDetails response = respond(interceptor(Set.of(), Set.of("m1")), request(RestOperationTypeEnum.READ, "m1"), original);

        Communication shown = (Communication) response.getResponseResource();
        assertThat(shown).isNotSameAs(original);
        assertThat(shown.getPayloadFirstRep().getContentStringType().getValue()).isEqualTo("masked");
        assertThat(audit.events).containsExactly("message-read-masked Communication/m1");
    }

    @Test
    void readOfSomethingTheRulesWithhold_isNotFound_andNothingIsAuditedAsShown() {
        Communication other = new Communication();
        other.setId(new IdType("Communication", "x"));
        VisibilityInterceptor interceptor = interceptor(Set.of("x"), Set.of());
        SystemRequestDetails request = request(RestOperationTypeEnum.READ, "x");
        interceptor.interceptPreHandled(request);

        assertThatThrownBy(() -> interceptor.interceptOutgoingResponse(request, new ResponseDetails(other)))
                .isInstanceOf(ResourceNotFoundException.class);
        assertThat(audit.events).isEmpty();
    }

    @Test
    void writesAndOperations_areLeftToWhereTheyHappen() {
        Communication created = new Communication();
        created.setId(new IdType("Communication", "x"));
        SystemRequestDetails request = request(RestOperationTypeEnum.CREATE, null);

        ResponseDetails response = respond(interceptor(Set.of("x"), Set.of()), request, created);

        assertThat(response.getResponseResource()).isSameAs(created);
        assertThat(audit.events).isEmpty();
    }
}
