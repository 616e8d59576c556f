package org.carerelay.routes.mail;

import java.nio.file.Path;

/**
 * How {@link OutboundMailRoute} delivers mails.
 *
 * @param smtpHost        SMTP relay host; {@code null} or blank means no SMTP: mails are written to {@code outboxDirectory}
 * @param smtpPort        SMTP port; {@code <= 0} means the protocol default (25 for smtp, 465 for smtps)
 * @param username        SMTP user, {@code null} or blank for no authentication
 * @param password        SMTP password
 * @param startTls        require STARTTLS on a plain SMTP connection
 * @param sslOnConnect    use implicit TLS ({@code smtps})
 * @param outboxDirectory directory for {@code .eml} files when SMTP is not configured
 */
public record MailTransportSettings(String smtpHost, int smtpPort, String username, String password,
                                    boolean startTls, boolean sslOnConnect, Path outboxDirectory) {

    public MailTransportSettings {
        if (isBlank(smtpHost) && outboxDirectory == null) {
            throw new IllegalArgumentException("either an SMTP host or an outbox directory is required");
        }
    }

    /** Settings that only write mails into an outbox directory. */
    public static MailTransportSettings outboxOnly(Path outboxDirectory) {
        return new MailTransportSettings(null, 0, null, null, false, false, outboxDirectory);
    }

    /** Whether mails go out via SMTP (otherwise they go to the outbox directory). */
    public boolean smtpEnabled() {
        return !isBlank(smtpHost);
    }

    /** Whether SMTP authentication is configured. */
    public boolean hasCredentials() {
        return !isBlank(username);
    }

    /** Never reveals the password. */
    @Override
    public String toString() {
        return "MailTransportSettings[smtpHost=" + smtpHost + ", smtpPort=" + smtpPort
                + ", username=" + username + ", password=" + (password == null ? "null" : "***")
                + ", startTls=" + startTls + ", sslOnConnect=" + sslOnConnect
                + ", outboxDirectory=" + outboxDirectory + "]";
    }

    static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
