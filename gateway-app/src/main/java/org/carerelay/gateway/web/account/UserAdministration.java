package org.carerelay.gateway.web.account;

import java.util.List;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.web.WebUser;
import org.carerelay.gateway.web.WebUsers;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.server.ResponseStatusException;

/**
 * What a manager may do with the accounts of the own organisation: list them, deactivate one,
 * reset its second factor. An account of another organisation is "not found" (404), never touched.
 * The last active manager cannot be deactivated (the organisation would lose its administration).
 */
@Service
public class UserAdministration {

    private final WebUsers users;
    private final AuditService audit;

    public UserAdministration(WebUsers users, AuditService audit) {
        this.users = users;
        this.audit = audit;
    }

    public List<WebUsers.Account> accounts(WebUser manager) {
        return users.ofOrganization(manager.organizationId());
    }

    /** Deactivates {@code userId}; its sessions end at their next request. */
    @Transactional
    public void deactivate(WebUser manager, String userId, String clientAddress) {
        WebUsers.Account account = ownAccount(manager, userId);
        if (!account.active()) {
            return;
        }
        if (account.manager() && users.activeManagersLocked(manager.organizationId()) <= 1) {
            throw new ColleagueInvitations.Refused("Das letzte aktive Konto mit Benutzerverwaltung kann nicht "
                    + "deaktiviert werden. Geben Sie zuerst einer anderen Person die Verwaltung.");
        }
        users.deactivate(userId);
        audit.success("web-account-deactivated", AuditEventAction.U, manager.caller(), clientAddress,
                "Organization/" + manager.organizationId());
    }

    /** Removes the account's authenticator: the person sets up a new one at the next sign-in. */
    @Transactional
    public void resetSecondFactor(WebUser manager, String userId, String clientAddress) {
        ownAccount(manager, userId);
        users.resetSecondFactor(userId);
        audit.success("web-second-factor-reset", AuditEventAction.U, manager.caller(), clientAddress,
                "Organization/" + manager.organizationId());
    }

    private WebUsers.Account ownAccount(WebUser manager, String userId) {
        if (userId == null || !userId.matches("[0-9a-fA-F-]{36}")) {
            throw new ResponseStatusException(HttpStatus.NOT_FOUND);
        }
        return users.find(userId).filter(a -> a.organizationId().equals(manager.organizationId()))
                .orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND));
    }
}
