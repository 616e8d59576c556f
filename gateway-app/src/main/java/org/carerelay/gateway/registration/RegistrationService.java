package org.carerelay.gateway.registration;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.carerelay.fhir.ErrorCode;
import org.carerelay.fhir.Telecoms;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.config.PublicUrls;
import org.carerelay.gateway.fhir.GatewayException;
import org.carerelay.gateway.mail.MailOutbox;
import org.carerelay.gateway.security.Caller;
import org.carerelay.gateway.security.RateCounters;
import org.carerelay.gateway.security.RateLimit;
import org.carerelay.gateway.security.Tokens;
import org.carerelay.routes.letter.LetterPdf;
import org.carerelay.routes.mail.OutboundMail;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.ContactPoint.ContactPointSystem;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * Verified registration: knowing an organisation's name is not enough, control of the fax number
 * or mailbox on record in the directory is. A one-time code goes there; the code, presented within
 * its lifetime and attempt limit, yields the API token once. Only hashes are stored.
 */
@Service
public class RegistrationService {

    private static final DateTimeFormatter GERMAN_DATE_TIME =
            DateTimeFormatter.ofPattern("dd.MM.yyyy 'um' HH:mm 'Uhr'").withZone(ZoneId.of("Europe/Berlin"));

    private final JdbcClient jdbc;
    private final OrganizationDirectory directory;
    private final ParticipantRepository participants;
    private final MailOutbox outbox;
    private final AuditService audit;
    private final CareRelayProperties props;
    private final PublicUrls urls;
    private final ApplicationEventPublisher events;
    private final RateCounters counters;
    /** Rate-limit scopes: code requests and code entries, per client address. */
    static final String REQUEST_SCOPE = "registration-request";
    static final String GUESS_SCOPE = "registration-code-entry";

    /** Published in the registering transaction; held messages are released after the commit. */
    public record OrganizationRegistered(String organizationId) {
    }

    /** Where an invitation went. */
    public record Invitation(String channel, String destination) {
    }

    public RegistrationService(JdbcClient jdbc, OrganizationDirectory directory, ParticipantRepository participants,
            MailOutbox outbox, AuditService audit, CareRelayProperties props, ApplicationEventPublisher events,
            RateCounters counters, PublicUrls urls) {
        this.events = events;
        this.urls = urls;
        this.counters = counters;
        this.jdbc = jdbc;
        this.directory = directory;
        this.participants = participants;
        this.outbox = outbox;
        this.audit = audit;
        this.props = props;
    }

    /**
     * Step 1: send a one-time code to the directory's fax number (or e-mail address). A code that
     * is still pending and younger than {@code code-resend-after} is neither replaced nor sent
     * again: repeated requests cost the practice nothing and cannot void its letter. The
     * {@code email} of this step is ignored; the contact address is given with the code (step 2).
     */
    // a refusal after the per-address count (no channel, the organisation's daily limit) keeps the count
    @Transactional(noRollbackFor = GatewayException.class)
    public Parameters requestCode(String organizationId, String clientAddress) {
        Organization org = directory.requireOrganization(organizationId);
        String entity = "Organization/" + organizationId;
        if (!org.getActive() && org.hasActive()) {
            audit.failure("registration-code-requested", AuditEventAction.E, Caller.ANONYMOUS, clientAddress, entity, "inactive");
            throw new GatewayException(ErrorCode.ORGANIZATION_INACTIVE, null);
        }
        RegistrationSettings settings = RegistrationSettings.of(props.registration());
        limitPerAddress(REQUEST_SCOPE, clientAddress, settings.requestsPerAddress(), "registration-code-requested", entity,
                "Too many registration codes were requested from this address today; try again tomorrow.");
        Optional<String> fax = Telecoms.first(org, ContactPointSystem.FAX);
        Optional<String> mail = Telecoms.first(org, ContactPointSystem.EMAIL);
        if (fax.isEmpty() && mail.isEmpty()) {
            audit.failure("registration-code-requested", AuditEventAction.E, Caller.ANONYMOUS, clientAddress, entity, "no channel");
            throw new GatewayException(ErrorCode.REGISTRATION_NO_CHANNEL, null);
        }
        // one decision at a time per organisation, so concurrent requests send one letter
        jdbc.sql("select pg_advisory_xact_lock(hashtext(?))").param("register:" + organizationId).query(Object.class).optional();
        Instant now = Instant.now();
        Optional<PendingCode> pending = jdbc.sql("""
                select channel, destination, created_at, expires_at from registration_challenge
                where organization_id = ? and state = 'pending' order by created_at desc limit 1
                """).param(organizationId)
                .query((rs, i) -> new PendingCode(rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant(),
                        rs.getTimestamp(4).toInstant()))
                .optional();
        if (pending.isPresent() && settings.keepsPending(pending.get().createdAt(), pending.get().expiresAt(), now)) {
            audit.success("registration-code-unchanged", AuditEventAction.E, Caller.ANONYMOUS, clientAddress, entity);
            return codeParameters(pending.get().channel(), pending.get().destination(), pending.get().expiresAt(), false);
        }
        int recent = jdbc.sql("select count(*) from registration_challenge where organization_id = ? and created_at > ?")
                .params(organizationId, Timestamp.from(now.minusSeconds(86_400))).query(Integer.class).single();
        if (recent >= props.registration().maxCodeRequestsPerDay()) {
            audit.failure("registration-code-requested", AuditEventAction.E, Caller.ANONYMOUS, clientAddress, entity, "rate limited");
            throw new GatewayException(ErrorCode.RATE_LIMITED,
                    "Too many codes were sent to this organisation today; try again tomorrow.");
        }
        Instant expires = now.plus(props.registration().codeTtl());
        IssuedCode issued = issueCode(organizationId, fax, mail, now, expires);
        String code = issued.code();

        byte[] letter = LetterPdf.render(letter(org, code, expires));
        if (fax.isPresent()) {
            outbox.send(new OutboundMail("registration-code", faxAddress(fax.get()), "Fax: CareRelay Registrierung",
                    "Fax-Auftrag: Registrierungsschreiben im Anhang.\n",
                    List.of(new OutboundMail.Attachment("registrierung.pdf", "application/pdf", letter))));
        } else {
            outbox.send(new OutboundMail("registration-code", mail.get(), "CareRelay: Ihr Registrierungscode",
                    emailText(org, code, expires),
                    List.of(new OutboundMail.Attachment("registrierung.pdf", "application/pdf", letter))));
        }
        audit.success("registration-code-sent", AuditEventAction.E, Caller.ANONYMOUS, clientAddress, entity);
        return codeParameters(issued.channel(), issued.destination(), expires, true);
    }

    private static Parameters codeParameters(String channel, String destination, Instant expires, boolean sent) {
        Parameters out = new Parameters();
        out.addParameter("channel", channel);
        out.addParameter("destination", destination);
        out.addParameter().setName("expires").setValue(new InstantType(Date.from(expires)));
        out.addParameter("sent", sent);
        return out;
    }

    /**
     * Step 2: the code and the contact address for the token. Entries are limited per client
     * address; wrong ones void it only past an operator-set ceiling (none by default).
     */
    @Transactional(noRollbackFor = GatewayException.class)
    public Parameters confirm(String organizationId, String code, String contactEmail, String clientAddress) {
        Organization org = directory.requireOrganization(organizationId);
        String entity = "Organization/" + organizationId;
        if (!org.getActive() && org.hasActive()) {
            audit.failure("registration-confirm", AuditEventAction.E, Caller.ANONYMOUS, clientAddress, entity, "inactive");
            throw new GatewayException(ErrorCode.ORGANIZATION_INACTIVE, null);
        }
        RegistrationSettings settings = RegistrationSettings.of(props.registration());
        limitPerAddress(GUESS_SCOPE, clientAddress, settings.attemptsPerAddress(), "registration-confirm", entity,
                "Too many codes were entered from this address today; try again tomorrow.");
        String email = contactEmail == null ? "" : contactEmail.trim();
        if (email.isEmpty()) {
            throw new GatewayException(ErrorCode.INVALID_REQUEST,
                    "Send the parameter 'email' (contact address for notifications) together with the code.");
        }
        if (!Telecoms.isPlausibleEmail(email)) {
            throw new GatewayException(ErrorCode.INVALID_REQUEST, "The parameter 'email' is not a valid e-mail address.");
        }
        Instant now = Instant.now();
        Optional<Challenge> pending = jdbc.sql("""
                select id, code_hash, expires_at, failed_attempts from registration_challenge
                where organization_id = ? and state = 'pending' order by created_at desc limit 1 for update
                """).param(organizationId)
                .query((rs, i) -> new Challenge(rs.getLong(1), rs.getString(2), rs.getTimestamp(3).toInstant(), rs.getInt(4)))
                .optional();
        if (pending.isEmpty()) {
            audit.failure("registration-confirm", AuditEventAction.E, Caller.ANONYMOUS, clientAddress, entity, "no pending code");
            boolean hadOne = jdbc.sql("select count(*) from registration_challenge where organization_id = ?")
                    .param(organizationId).query(Integer.class).single() > 0;
            throw new GatewayException(hadOne ? ErrorCode.REGISTRATION_CODE_EXPIRED : ErrorCode.REGISTRATION_NOT_PENDING, null);
        }
        Challenge challenge = pending.get();
        if (now.isAfter(challenge.expiresAt())) {
            jdbc.sql("update registration_challenge set state = 'void' where id = ?").param(challenge.id()).update();
            audit.failure("registration-confirm", AuditEventAction.E, Caller.ANONYMOUS, clientAddress, entity, "code expired");
            throw new GatewayException(ErrorCode.REGISTRATION_CODE_EXPIRED, null);
        }
        if (!Tokens.hashEquals(challenge.codeHash(), Tokens.sha256(Tokens.normalizeCode(code)))) {
            int failed = challenge.failedAttempts() + 1;
            int ceiling = props.registration().maxCodeAttempts();
            boolean voided = ceiling > 0 && failed >= ceiling; // 0: no ceiling, per-address limits bound guessing
            jdbc.sql("update registration_challenge set failed_attempts = ?, state = ? where id = ?")
                    .params(failed, voided ? "void" : "pending", challenge.id()).update();
            audit.failure("registration-confirm", AuditEventAction.E, Caller.ANONYMOUS, clientAddress, entity,
                    voided ? "wrong code, code void" : "wrong code");
            if (voided) {
                throw new GatewayException(ErrorCode.REGISTRATION_CODE_EXPIRED,
                        "The code was entered wrongly too often and is now void; request a new one.");
            }
            throw new GatewayException(ErrorCode.REGISTRATION_CODE_INVALID, "The code is wrong.");
        }
        jdbc.sql("update registration_challenge set state = 'used' where id = ?").param(challenge.id()).update();
        String token = Tokens.newToken();
        participants.register(organizationId, Tokens.sha256(token), email, now);
        jdbc.sql("update invitation set status = 'completed', completed_at = ? where organization_id = ? and status = 'requested'")
                .params(Timestamp.from(now), organizationId).update();
        events.publishEvent(new OrganizationRegistered(organizationId));
        audit.success("registration-completed", AuditEventAction.E, Caller.participant(organizationId), clientAddress, entity);

        Parameters out = new Parameters();
        out.addParameter().setName("organization").setValue(new Reference(entity));
        out.addParameter("token", token);
        return out;
    }

    /** Counts one request of {@code clientAddress} in {@code scope}; over the day's limit: 429. */
    private void limitPerAddress(String scope, String clientAddress, RateLimit limit, String auditSubtype, String entity,
            String message) {
        RateLimit.Verdict verdict = counters.hit(scope, RateCounters.clientKey(clientAddress), limit);
        if (!verdict.allowed()) {
            audit.failure(auditSubtype, AuditEventAction.E, Caller.ANONYMOUS, clientAddress, entity, "rate limited (address)");
            GatewayException limited = new GatewayException(ErrorCode.RATE_LIMITED, message);
            limited.addResponseHeader("Retry-After", Long.toString(RateLimit.seconds(verdict.retryAfter())));
            throw limited;
        }
    }

    private record PendingCode(String channel, String destination, Instant createdAt, Instant expiresAt) {
    }

    /**
     * Invites an organisation that is not registered: a letter by fax-over-email (or e-mail without
     * fax) saying that a message waits, how to register, and a one-time code. No patient data.
     * Runs inside the caller's transaction. Empty when the organisation has no fax and no e-mail.
     */
    public Optional<Invitation> sendInvitation(Organization org, String senderName, boolean reminder) {
        Optional<String> fax = Telecoms.first(org, ContactPointSystem.FAX);
        Optional<String> mail = Telecoms.first(org, ContactPointSystem.EMAIL);
        if (fax.isEmpty() && mail.isEmpty()) {
            return Optional.empty();
        }
        String organizationId = org.getIdElement().getIdPart();
        Instant now = Instant.now();
        Instant expires = now.plus(props.registration().codeTtl().plus(props.invitation().reminderAfter()));
        IssuedCode issued = issueCode(organizationId, fax, mail, now, expires);
        String code = issued.code();
        String who = senderName == null ? "Eine Einrichtung" : senderName;
        List<String> paragraphs = List.of("Sehr geehrte Damen und Herren,",
                (reminder ? "wir erinnern daran: " : "") + who + " hat Ihrer Einrichtung über den sicheren Nachrichtendienst "
                        + "CareRelay eine Nachricht gesendet. Sie wartet auf Sie, bis Sie sich registriert haben.",
                "CareRelay verbindet Praxen, Kliniken, Pflegedienste, Pflegeheime und Kassen für den verschlüsselten "
                        + "Austausch. Inhalte und Patientendaten werden aus Datenschutzgründen nicht per Fax oder E-Mail übermittelt.",
                "So registrieren Sie sich: Öffnen Sie im Browser " + webRegisterUrl() + ", wählen Sie Ihre Einrichtung "
                        + "und geben Sie den Code (unten), Ihren Namen, Ihre E-Mail-Adresse und ein Passwort ein. "
                        + "Danach lesen und beantworten Sie die wartende Nachricht im Web-Posteingang. "
                        + "Der Code gilt bis " + GERMAN_DATE_TIME.format(expires) + ".",
                connectedSystems(organizationId),
                "Wenn Sie nicht teilnehmen möchten, können Sie dieses Schreiben vernichten.");
        String subject = reminder ? "Erinnerung: Eine Nachricht wartet auf Sie bei CareRelay"
                : "Eine Nachricht wartet auf Sie bei CareRelay";
        byte[] letter = LetterPdf.render(new LetterPdf.Letter(operatorBlock(), recipientBlock(org), subject, paragraphs, code,
                "Mit freundlichen Grüßen\n" + props.operator().name()));
        List<OutboundMail.Attachment> attachment = List.of(new OutboundMail.Attachment("einladung.pdf", "application/pdf", letter));
        if (fax.isPresent()) {
            outbox.send(new OutboundMail("invitation", faxAddress(fax.get()),
                    "Fax: CareRelay Einladung", "Fax-Auftrag: Einladungsschreiben im Anhang.\n", attachment));
        } else {
            outbox.send(new OutboundMail("invitation", mail.get(), subject,
                    String.join("\n\n", paragraphs) + "\n\nIhr Einmalcode: " + code + "\n\nMit freundlichen Grüßen\n"
                            + props.operator().name() + "\n", attachment));
        }
        audit.success(reminder ? "invitation-reminder" : "invitation-sent", AuditEventAction.E, Caller.ANONYMOUS, null,
                "Organization/" + organizationId);
        return Optional.of(new Invitation(issued.channel(), issued.destination()));
    }

    /** A one-time code, and where it goes: {@code fax} (preferred) or {@code email}, masked. */
    private record IssuedCode(String code, String channel, String destination) {
    }

    /**
     * Voids the organisation's pending code and stores a new one (only its hash) for the fax
     * number, else the e-mail address; one of them must be present.
     */
    private IssuedCode issueCode(String organizationId, Optional<String> fax, Optional<String> mail,
            Instant now, Instant expires) {
        String code = Tokens.newCode();
        String channel = fax.isPresent() ? "fax" : "email";
        String masked = fax.map(Telecoms::maskNumber).orElseGet(() -> Telecoms.maskEmail(mail.get()));
        jdbc.sql("update registration_challenge set state = 'void' where organization_id = ? and state = 'pending'")
                .param(organizationId).update();
        jdbc.sql("""
                insert into registration_challenge (organization_id, code_hash, contact_email, channel, destination, created_at, expires_at, state)
                values (?, ?, ?, ?, ?, ?, ?, 'pending')
                """).params(organizationId, Tokens.sha256(Tokens.normalizeCode(code)), null, channel, masked,
                Timestamp.from(now), Timestamp.from(expires)).update();
        return new IssuedCode(code, channel, masked);
    }

    /** The fax-over-email address of a fax number: {@code <digits>@<carerelay.fax.domain>}. */
    private String faxAddress(String fax) {
        return Telecoms.faxDigits(fax, "49") + "@" + props.fax().domain();
    }

    private String operatorBlock() {
        return props.operator().name()
                + (props.operator().address() == null || props.operator().address().isBlank() ? "" : "\n" + props.operator().address());
    }

    private static String recipientBlock(Organization org) {
        StringBuilder recipient = new StringBuilder(org.getName());
        org.getAddress().stream().findFirst().ifPresent(a -> {
            a.getLine().forEach(l -> recipient.append('\n').append(l.getValue()));
            recipient.append('\n').append(a.hasPostalCode() ? a.getPostalCode() + " " : "").append(a.hasCity() ? a.getCity() : "");
        });
        return recipient.toString().trim();
    }

    @Transactional
    public Parameters rotateToken(String organizationId, Caller caller, String clientAddress) {
        requireSelfOrAdmin(organizationId, caller);
        String token = Tokens.newToken();
        if (!participants.rotateToken(organizationId, Tokens.sha256(token), Instant.now())) {
            throw new GatewayException(ErrorCode.NOT_REGISTERED, null);
        }
        audit.success("token-rotated", AuditEventAction.E, caller, clientAddress, "Organization/" + organizationId);
        Parameters out = new Parameters();
        out.addParameter().setName("organization").setValue(new Reference("Organization/" + organizationId));
        out.addParameter("token", token);
        return out;
    }

    /**
     * Changes the address notifications of new messages and replies go to (set at registration);
     * the organisation itself or an administrator. Audited.
     */
    @Transactional
    public void changeContactEmail(String organizationId, String contactEmail, Caller caller, String clientAddress) {
        requireSelfOrAdmin(organizationId, caller);
        String email = contactEmail == null ? "" : contactEmail.trim();
        String entity = "Organization/" + organizationId;
        if (!Telecoms.isPlausibleEmail(email)) {
            audit.failure("contact-email-changed", AuditEventAction.U, caller, clientAddress, entity, "invalid address");
            throw new GatewayException(ErrorCode.INVALID_REQUEST, "The notification address is not a valid e-mail address.");
        }
        if (!participants.changeContactEmail(organizationId, email)) {
            throw new GatewayException(ErrorCode.NOT_REGISTERED, null);
        }
        audit.success("contact-email-changed", AuditEventAction.U, caller, clientAddress, entity);
    }

    /** The address notifications go to; empty when the organisation is not registered. */
    public Optional<String> contactEmail(String organizationId, Caller caller) {
        requireSelfOrAdmin(organizationId, caller);
        return participants.contactEmail(organizationId);
    }

    /** Voids the token and pending codes, erases the contact e-mail and removes the encryption certificate. */
    @Transactional
    public Parameters deregister(String organizationId, Caller caller, String clientAddress) {
        requireSelfOrAdmin(organizationId, caller);
        if (!participants.deregister(organizationId, Instant.now())) {
            throw new GatewayException(ErrorCode.NOT_REGISTERED, null);
        }
        jdbc.sql("update registration_challenge set state = 'void', contact_email = '' where organization_id = ?")
                .param(organizationId).update();
        directory.removeEncryptionCertificate(organizationId);
        audit.success("deregistered", AuditEventAction.E, caller, clientAddress, "Organization/" + organizationId);
        Parameters out = new Parameters();
        out.addParameter().setName("organization").setValue(new Reference("Organization/" + organizationId));
        out.addParameter("deregistered", true);
        return out;
    }

    private void requireSelfOrAdmin(String organizationId, Caller caller) {
        directory.requireOrganization(organizationId);
        caller.requireSelfOrAdmin(organizationId);
    }

    private LetterPdf.Letter letter(Organization org, String code, Instant expires) {
        return new LetterPdf.Letter(operatorBlock(), recipientBlock(org),
                "Registrierung bei CareRelay – Ihr Einmalcode",
                List.of("Sehr geehrte Damen und Herren,",
                        "für Ihre Einrichtung wurde die Teilnahme am sicheren Nachrichtenaustausch CareRelay beantragt. "
                                + "Mit dem folgenden Einmalcode schließen Sie die Registrierung ab. Der Code gilt bis "
                                + GERMAN_DATE_TIME.format(expires) + " und kann nur einmal verwendet werden.",
                        "Öffnen Sie im Browser " + webRegisterUrl() + ", wählen Sie Ihre Einrichtung und geben Sie den Code, "
                                + "Ihren Namen, Ihre E-Mail-Adresse und ein Passwort ein. Sie erhalten damit das erste Konto "
                                + "Ihrer Einrichtung im Web-Posteingang und laden Kolleginnen und Kollegen von dort ein.",
                        connectedSystems(org.getIdElement().getIdPart()),
                        "Wenn niemand in Ihrer Einrichtung die Registrierung beantragt hat, können Sie dieses Schreiben vernichten; "
                                + "ohne den Code entsteht kein Zugang."),
                code,
                "Mit freundlichen Grüßen\n" + props.operator().name());
    }

    private String emailText(Organization org, String code, Instant expires) {
        return "Sehr geehrte Damen und Herren,\n\n"
                + "für Ihre Einrichtung wurde die Teilnahme an CareRelay beantragt.\n\n"
                + "Ihr Einmalcode: " + code + "\n"
                + "Gültig bis: " + GERMAN_DATE_TIME.format(expires) + "\n\n"
                + "Öffnen Sie im Browser " + webRegisterUrl() + ", wählen Sie Ihre Einrichtung und geben Sie den Code, "
                + "Ihren Namen, Ihre E-Mail-Adresse und ein Passwort ein.\n"
                + connectedSystems(org.getIdElement().getIdPart()) + "\n"
                + "Wenn niemand in Ihrer Einrichtung die Registrierung beantragt hat, ignorieren Sie diese Nachricht.\n\n"
                + "Mit freundlichen Grüßen\n" + props.operator().name() + "\n";
    }

    /** The web inbox's registration page, for letters and mails. */
    private String webRegisterUrl() {
        return urls.webLink("/registrieren");
    }

    /** The second way, for organisations whose own system talks FHIR: the operation itself. */
    private String connectedSystems(String organizationId) {
        return "Einrichtungen mit angebundenem System können den Code stattdessen mit der FHIR-Operation $register "
                + "an Organization/" + organizationId + " (" + registerUrl(organizationId) + ") übermitteln "
                + "(Parameter 'code' und 'email', die Adresse für Benachrichtigungen); sie erhalten dann einmalig "
                + "einen Zugangsschlüssel (API-Token).";
    }

    /** Where step 2 of the registration is called, for letters and mails. */
    private String registerUrl(String organizationId) {
        return urls.fhirBase() + "/Organization/" + organizationId + "/$register";
    }

    private record Challenge(long id, String codeHash, Instant expiresAt, int failedAttempts) {
    }
}
