package org.carerelay.gateway.web.account;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.config.PublicUrls;
import org.carerelay.gateway.mail.MailOutbox;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.security.Tokens;
import org.carerelay.gateway.web.WebUser;
import org.carerelay.gateway.web.WebUsers;
import org.carerelay.routes.mail.OutboundMail;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * A manager invites a colleague by e-mail ({@code web_invitation}): the mail carries a link
 * {@code /einladung/<token>} valid for {@link #VALIDITY} and usable once; only the token's SHA-256
 * hash is stored. Accepting it creates an account of the inviting organisation (not a manager).
 */
@Service
public class ColleagueInvitations {

    public static final Duration VALIDITY = Duration.ofHours(72);
    private static final DateTimeFormatter GERMAN_DATE_TIME =
            DateTimeFormatter.ofPattern("dd.MM.yyyy 'um' HH:mm 'Uhr'").withZone(ZoneId.of("Europe/Berlin"));

    /** A valid (unused, unexpired) invitation, as the accept page shows it. */
    public record Open(String id, String organizationId, String displayName, String email) {
    }

    /** Why an invitation cannot be sent or accepted. */
    public static final class Refused extends RuntimeException {
        public Refused(String germanMessage) {
            super(germanMessage, null, false, false);
        }
    }

    private final JdbcClient jdbc;
    private final WebUsers users;
    private final MailOutbox outbox;
    private final PublicUrls urls;
    private final AuditService audit;
    private final CareRelayProperties props;
    private final Clock clock = Clock.systemUTC();

    public ColleagueInvitations(JdbcClient jdbc, WebUsers users, MailOutbox outbox, PublicUrls urls, AuditService audit,
            CareRelayProperties props) {
        this.jdbc = jdbc;
        this.users = users;
        this.outbox = outbox;
        this.urls = urls;
        this.audit = audit;
        this.props = props;
    }

    /** Sends the invitation mail; the address must not belong to an account yet. */
    @Transactional
    public void invite(WebUser manager, String name, String email, String clientAddress) {
        String address = email.strip().toLowerCase(Locale.ROOT);
        if (users.emailTaken(address)) {
            throw new Refused("Zu dieser E-Mail-Adresse gibt es schon ein Konto.");
        }
        String token = Tokens.newToken();
        Instant now = clock.instant();
        Instant expires = now.plus(VALIDITY);
        String id = UUID.randomUUID().toString();
        jdbc.sql("""
                insert into web_invitation (id, organization_id, token_hash, display_name, email, invited_by, created_at, expires_at)
                values (?::uuid, ?, ?, ?, ?, ?::uuid, ?, ?)
                """).params(id, manager.organizationId(), Tokens.sha256(token), name.strip(), address, manager.userId(),
                Timestamp.from(now), Timestamp.from(expires)).update();
        String link = urls.webLink("/einladung/" + token);
        outbox.send(new OutboundMail("web-invitation", address, "Einladung zu CareRelay",
                "Guten Tag " + name.strip() + ",\n\n"
                        + manager.displayName() + " lädt Sie ein, den sicheren Nachrichtenaustausch CareRelay für Ihre "
                        + "Einrichtung im Browser zu nutzen. Über diesen Link legen Sie Ihr Passwort fest:\n\n"
                        + link + "\n\n"
                        + "Der Link gilt bis " + GERMAN_DATE_TIME.format(expires) + " und nur einmal. Danach richten Sie "
                        + "bei der ersten Anmeldung eine Authenticator-App als zweiten Faktor ein.\n"
                        + "Wenn Sie diese Einladung nicht erwartet haben, ignorieren Sie diese Nachricht.\n\n"
                        + "Mit freundlichen Grüßen\n" + props.operator().name() + "\n",
                List.of()));
        audit.success("web-invitation-sent", AuditEventAction.C, manager.caller(), clientAddress,
                "Organization/" + manager.organizationId());
    }

    /**
     * The invitation of {@code token}, if it exists, is unused and not expired, and the manager who
     * sent it is still an active manager of that organisation (a deactivated manager's invitations
     * die with the account, so no one can let themselves back in through one sent earlier).
     */
    public Optional<Open> open(String token) {
        if (token == null || token.isBlank() || token.length() > 200) {
            return Optional.empty();
        }
        return jdbc.sql("""
                select i.id, i.organization_id, i.display_name, i.email from web_invitation i
                join web_user u on u.id = i.invited_by
                where i.token_hash = ? and i.used_at is null and i.expires_at > ?
                  and u.active and u.manager and u.organization_id = i.organization_id
                """).params(Tokens.sha256(token), Timestamp.from(clock.instant()))
                .query((rs, n) -> new Open(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)))
                .optional();
    }

    /** Accepts the invitation of {@code token}: the account is created and the link is used up. */
    @Transactional
    public String accept(String token, String name, String password, String clientAddress) {
        Open invitation = open(token).orElseThrow(() -> new Refused(
                "Diese Einladung ist abgelaufen oder wurde schon verwendet. Bitte bitten Sie um eine neue Einladung."));
        int claimed = jdbc.sql("update web_invitation set used_at = ? where id = ?::uuid and used_at is null")
                .params(Timestamp.from(clock.instant()), invitation.id()).update();
        if (claimed != 1 || users.emailTaken(invitation.email())) {
            throw new Refused("Diese Einladung wurde schon verwendet.");
        }
        String userId = users.create(invitation.organizationId(), name, invitation.email(), password, false);
        audit.success("web-account-created", AuditEventAction.C,
                Caller.participant(invitation.organizationId()).actingAs(new Caller.Person(userId, name.strip())),
                clientAddress, "Organization/" + invitation.organizationId());
        return userId;
    }
}
