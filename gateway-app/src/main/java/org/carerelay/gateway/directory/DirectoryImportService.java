package org.carerelay.gateway.directory;

import ca.uhn.fhir.rest.param.TokenParam;
import java.io.Reader;
import java.util.List;
import java.util.Optional;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.OperationOutcomes;
import org.carerelay.fhir.Systems;
import org.carerelay.fhir.directory.DirectoryCsv;
import org.carerelay.fhir.directory.DirectoryCsvException;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.store.ResourceStore;
import org.carerelay.gateway.store.SearchBuilder;
import org.hl7.fhir.r4.model.Endpoint;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * Imports a directory CSV (columns: {@link DirectoryCsv}) all or nothing: the file is parsed and
 * checked completely first, then written in one transaction. An existing entry is matched by id,
 * else by IK number, BSNR, Telematik-ID or HL7 alias, and updated; others are created.
 */
@Service
public class DirectoryImportService {

    private static final Logger log = LoggerFactory.getLogger(DirectoryImportService.class);

    public record Result(int created, int updated) {
    }

    private final ResourceStore store;
    private final DirectoryService directory;

    public DirectoryImportService(ResourceStore store, DirectoryService directory) {
        this.store = store;
        this.directory = directory;
    }

    @Transactional(rollbackFor = Exception.class)
    public Result importCsv(Reader csv, String source) {
        List<DirectoryCsv.Entry> entries;
        try {
            entries = DirectoryCsv.parse(csv);
        } catch (DirectoryCsvException e) {
            OperationOutcome outcome = new OperationOutcome();
            for (DirectoryCsvException.RowError error : e.errors()) {
                OperationOutcomes.addIssue(outcome, ErrorCode.CSV_INVALID, error.describe())
                        .addExpression("line " + error.line() + (error.column() == null ? "" : ", column " + error.column()));
            }
            throw new GatewayException(ErrorCode.CSV_INVALID,
                    e.errors().size() + " error(s) in the CSV file; nothing was imported.", outcome);
        }
        int created = 0;
        int updated = 0;
        for (DirectoryCsv.Entry entry : entries) {
            try {
                Organization org = entry.organization();
                Optional<Organization> existing = findExisting(org);
                if (existing.isPresent()) {
                    org.setId(existing.get().getIdElement().getIdPart());
                    org.setEndpoint(existing.get().getEndpoint());
                    org.getExtension().addAll(existing.get().getExtensionsByUrl(DirectoryService.EXT_ENCRYPTION_CERTIFICATE));
                    if (org.getExtensionsByUrl(Systems.EXT_HL7_ALLOWED_ADDRESS).isEmpty()) {
                        // an empty hl7_allowed_addresses keeps the stored list; clear it through the API
                        org.getExtension().addAll(existing.get().getExtensionsByUrl(Systems.EXT_HL7_ALLOWED_ADDRESS));
                    }
                    directory.saveOrganization(org, false);
                    updated++;
                } else {
                    directory.saveOrganization(org, true);
                    created++;
                }
                if (entry.endpoint() != null) {
                    Endpoint endpoint = entry.endpoint();
                    String orgId = org.getIdElement().getIdPart();
                    String kind = "hl7v2-mllp".equals(endpoint.getConnectionType().getCode()) ? "mllp" : "fhir";
                    endpoint.setId(orgId + "-" + kind);
                    endpoint.setManagingOrganization(new Reference("Organization/" + orgId));
                    directory.saveEndpoint(endpoint, !store.exists("Endpoint", endpoint.getIdElement().getIdPart()));
                }
            } catch (GatewayException e) {
                OperationOutcome outcome = OperationOutcomes.of(ErrorCode.CSV_INVALID,
                        "line " + entry.line() + ": " + e.getMessage());
                throw new GatewayException(ErrorCode.CSV_INVALID,
                        "line " + entry.line() + ": " + e.getMessage() + "; nothing was imported.", outcome);
            }
        }
        log.info("Directory import from {}: {} created, {} updated", source, created, updated);
        return new Result(created, updated);
    }

    private Optional<Organization> findExisting(Organization org) {
        if (org.getIdElement().hasIdPart()) {
            return store.read(Organization.class, org.getIdElement().getIdPart());
        }
        for (Identifier identifier : org.getIdentifier()) {
            if (!DirectoryService.UNIQUE_SYSTEMS.contains(identifier.getSystem())) {
                continue;
            }
            SearchBuilder sb = new SearchBuilder().identifier("identifier",
                    new TokenParam(identifier.getSystem(), identifier.getValue()));
            List<Organization> found = store.search(Organization.class, sb.sql(), sb.params(), 1, 0);
            if (!found.isEmpty()) {
                return Optional.of(found.get(0));
            }
        }
        return Optional.empty();
    }
}
