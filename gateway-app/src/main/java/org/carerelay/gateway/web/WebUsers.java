package org.carerelay.gateway.web;

import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import org.carerelay.routes.crypto.ContentCipher;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.core.userdetails.UsernameNotFoundException;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * The user accounts of the web inbox ({@code web_user}): look-up for the password login,
 * the TOTP second factor (secret encrypted at rest with the content key, each code usable once),
 * and the lockout after repeated failures ({@value #MAX_FAILURES} failed passwords or codes in a
 * row lock the account for {@link #LOCK_DURATION}).
 */
@Service
public class WebUsers implements UserDetailsService {

    static final int MAX_FAILURES = 5;
    static final Duration LOCK_DURATION = Duration.ofMinutes(15);
    private static final String COLUMNS = "id, organization_id, display_name, email, password_hash, manager, active, "
            + "locked_until, totp_secret is not null as totp";

    /** A row of {@code web_user}, without secrets. */
    public record Account(String id, String organizationId, String displayName, String email, boolean manager,
            boolean active, Instant lockedUntil, boolean totpEnabled) {
    }

    private final JdbcClient jdbc;
    private final PasswordEncoder passwords;
    private final ContentCipher cipher;
    private final Clock clock;

    public WebUsers(JdbcClient jdbc, PasswordEncoder passwords, ContentCipher cipher) {
        this.jdbc = jdbc;
        this.passwords = passwords;
        this.cipher = cipher;
        this.clock = Clock.systemUTC();
    }

    @Override
    public WebUser loadUserByUsername(String email) {
        if (email == null || email.isBlank()) {
            throw new UsernameNotFoundException("no user");
        }
        return jdbc.sql("select " + COLUMNS + " from web_user where lower(email) = lower(?)")
                .param(email.trim())
                // locked and deactivated accounts are refused after the password check (see
                // WebSecurityConfiguration.afterPassword), never before it: every refusal then costs
                // the same hashing time and the answer's timing does not tell which accounts exist
                .query((rs, n) -> new WebUser(rs.getString("id"), rs.getString("organization_id"),
                        rs.getString("display_name"), rs.getString("email"), rs.getString("password_hash"),
                        rs.getBoolean("manager"), true, false, rs.getBoolean("totp")))
                .optional()
                .orElseThrow(() -> new UsernameNotFoundException("no user"));
    }

    /** A new account of {@code organizationId}; the e-mail address must not be taken. */
    @Transactional
    public String create(String organizationId, String displayName, String email, String rawPassword, boolean manager) {
        String id = UUID.randomUUID().toString();
        jdbc.sql("""
                insert into web_user (id, organization_id, display_name, email, password_hash, manager, active, created_at)
                values (?::uuid, ?, ?, ?, ?, ?, true, ?)
                """).params(id, organizationId, displayName.trim(), email.trim().toLowerCase(Locale.ROOT),
                passwords.encode(rawPassword), manager, Timestamp.from(clock.instant())).update();
        return id;
    }

    public boolean emailTaken(String email) {
        return jdbc.sql("select count(*) from web_user where lower(email) = lower(?)").param(email.trim())
                .query(Long.class).single() > 0;
    }

    public Optional<Account> find(String userId) {
        return jdbc.sql("select " + COLUMNS + " from web_user where id = ?::uuid").param(userId)
                .query(this::account).optional();
    }

    /** The accounts of {@code organizationId}, by name. */
    public List<Account> ofOrganization(String organizationId) {
        return jdbc.sql("select " + COLUMNS + " from web_user where organization_id = ? order by lower(display_name), email")
                .param(organizationId).query(this::account).list();
    }

    /** Still allowed in: the account exists, is active, and the organisation has not changed. */
    public boolean stillValid(WebUser user) {
        return jdbc.sql("select count(*) from web_user where id = ?::uuid and active and organization_id = ?")
                .params(user.userId(), user.organizationId()).query(Long.class).single() > 0;
    }

    /** Deactivates the account: its sessions end at their next request ({@link AccountStillValidFilter}). */
    @Transactional
    public void deactivate(String userId) {
        jdbc.sql("update web_user set active = false where id = ?::uuid").param(userId).update();
    }

    /** How many active managers {@code organizationId} has (locks them, for a decision that must keep one). */
    @Transactional
    public int activeManagersLocked(String organizationId) {
        return jdbc.sql("select id from web_user where organization_id = ? and manager and active for update")
                .param(organizationId).query(String.class).list().size();
    }

    /** Stores {@code secret} as the account's TOTP secret (encrypted), replacing any earlier one. */
    @Transactional
    public void enableTotp(String userId, byte[] secret, long usedStep) {
        jdbc.sql("update web_user set totp_secret = ?, totp_key_id = ?, totp_last_step = ? where id = ?::uuid")
                .params(cipher.encrypt(secret, aad(userId)), cipher.keyId(), usedStep, userId).update();
    }

    /**
     * Sets up the account's first TOTP secret, unless one was set up meanwhile (by a second session
     * of the same password step) or the account is locked; {@code false} then, and nothing changes.
     */
    @Transactional
    public boolean enableFirstTotp(String userId, byte[] secret, long usedStep) {
        return jdbc.sql("""
                update web_user set totp_secret = ?, totp_key_id = ?, totp_last_step = ?
                where id = ?::uuid and active and totp_secret is null and (locked_until is null or locked_until <= ?)
                """).params(cipher.encrypt(secret, aad(userId)), cipher.keyId(), usedStep, userId,
                Timestamp.from(clock.instant())).update() == 1;
    }

    /** Removes the account's TOTP secret: the person sets up a new one at the next login. */
    @Transactional
    public void resetSecondFactor(String userId) {
        jdbc.sql("update web_user set totp_secret = null, totp_key_id = null, totp_last_step = 0 where id = ?::uuid")
                .param(userId).update();
    }

    /**
     * Checks {@code code} against the account's TOTP secret; a code is accepted once. A wrong code
     * counts as a failed login. While the account is locked no code is accepted, not even the right
     * one: sessions that passed the password step before the lock cannot go on guessing.
     */
    @Transactional
    public boolean verifyTotp(String userId, String code) {
        record Secret(byte[] sealed, long lastStep, Timestamp lockedUntil) {
        }
        Optional<Secret> stored = jdbc.sql("""
                select totp_secret, totp_last_step, locked_until from web_user where id = ?::uuid and active for update
                """).param(userId).query((rs, n) -> new Secret(rs.getBytes(1), rs.getLong(2), rs.getTimestamp(3))).optional();
        if (stored.isEmpty() || stored.get().sealed() == null) {
            return false;
        }
        if (lockedAt(stored.get().lockedUntil())) {
            loginFailed(userId);
            return false;
        }
        byte[] secret = cipher.decrypt(stored.get().sealed(), aad(userId));
        OptionalLong step = Totp.verify(secret, code, clock.instant(), stored.get().lastStep());
        if (step.isEmpty()) {
            loginFailed(userId);
            return false;
        }
        jdbc.sql("update web_user set totp_last_step = ? where id = ?::uuid").params(step.getAsLong(), userId).update();
        return true;
    }

    /**
     * A failed password or code: counted, and the account locked after {@value #MAX_FAILURES} in a row.
     * Once a lock has run out the count starts again, so a single wrong password after it does not
     * lock the account anew.
     */
    @Transactional
    public void loginFailed(String userId) {
        Timestamp now = Timestamp.from(clock.instant());
        jdbc.sql("""
                update web_user set
                    failed_logins = case when locked_until is not null and locked_until <= :now then 1
                                         else failed_logins + 1 end,
                    locked_until = case when locked_until is not null and locked_until > :now then locked_until
                                        when (case when locked_until is not null and locked_until <= :now then 1
                                                   else failed_logins + 1 end) >= :max then :until
                                        else null end
                where id = :id::uuid
                """).param("now", now).param("max", MAX_FAILURES)
                .param("until", Timestamp.from(clock.instant().plus(LOCK_DURATION))).param("id", userId).update();
    }

    /** Whether the account may sign in at this moment: active and not locked. */
    public boolean maySignIn(String userId) {
        return jdbc.sql("select active and coalesce(locked_until <= ?, true) from web_user where id = ?::uuid")
                .params(Timestamp.from(clock.instant()), userId).query(Boolean.class).optional().orElse(false);
    }

    /** Whether the account is locked at this moment. */
    public boolean locked(String userId) {
        return jdbc.sql("select coalesce(locked_until > ?, false) from web_user where id = ?::uuid")
                .params(Timestamp.from(clock.instant()), userId).query(Boolean.class).optional().orElse(true);
    }

    private boolean lockedAt(Timestamp lockedUntil) {
        return lockedUntil != null && lockedUntil.toInstant().isAfter(clock.instant());
    }

    /** A failed password for {@code email} (nothing happens for an unknown address). */
    public void loginFailedFor(String email) {
        jdbc.sql("select id from web_user where lower(email) = lower(?)").param(email == null ? "" : email.trim())
                .query(String.class).optional().ifPresent(this::loginFailed);
    }

    /** Both factors passed: the failure count starts again. */
    @Transactional
    public void loginSucceeded(String userId) {
        jdbc.sql("update web_user set failed_logins = 0, locked_until = null, last_login_at = ? where id = ?::uuid")
                .params(Timestamp.from(clock.instant()), userId).update();
    }

    private Account account(ResultSet rs, int n) throws SQLException {
        Timestamp lockedUntil = rs.getTimestamp("locked_until");
        return new Account(rs.getString("id"), rs.getString("organization_id"), rs.getString("display_name"),
                rs.getString("email"), rs.getBoolean("manager"), rs.getBoolean("active"),
                lockedUntil == null ? null : lockedUntil.toInstant(), rs.getBoolean("totp"));
    }

    private static byte[] aad(String userId) {
        return ("web-user-totp:" + userId).getBytes(StandardCharsets.UTF_8);
    }
}
