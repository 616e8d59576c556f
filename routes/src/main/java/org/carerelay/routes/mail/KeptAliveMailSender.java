package org.carerelay.routes.mail;

import jakarta.mail.MessagingException;
import jakarta.mail.PasswordAuthentication;
import jakarta.mail.Transport;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Date;
import java.util.Deque;
import java.util.List;
import java.util.function.LongSupplier;
import org.apache.camel.Service;
import org.apache.camel.component.mail.DefaultJavaMailSender;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.eclipse.angus.mail.smtp.SMTPSenderFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends mails over SMTP connections that stay open between mails, the way a mail server's own
 * client caches them: one connection per sending thread at a time, so greeting, {@code EHLO},
 * {@code STARTTLS} and {@code AUTH} happen once per connection rather than once per mail.
 *
 * <p>A connection is used again only while it is young enough: idle for less than
 * {@link Limits#idle()}, open for less than {@link Limits#lifetime()}, and with fewer than
 * {@link Limits#mailsPerConnection()} mails sent. Servers close idle clients after some minutes and
 * some accept only so many mails per connection; a connection past a limit is closed ({@code QUIT},
 * not waiting for the answer) and a new one opened. When a mail fails on a connection that was used
 * before because that connection is gone (the server closed it meanwhile: {@link #connectionGone}),
 * it is sent once more on a new connection, and only a failure there reaches the route's
 * redelivery. Every other failure closes the connection and goes to the redelivery at once, as it
 * did with a new connection per mail: a mail is sent at least once, as before.
 *
 * <p>Camel configures host, port, credentials and session properties as for its own sender.
 * {@link #closeIdle()} closes what has been idle too long (the route calls it on a timer) and
 * {@link #stop()} every connection (the route registers the sender as a service of its Camel context).
 */
public class KeptAliveMailSender extends DefaultJavaMailSender implements Service {

    private static final Logger LOG = LoggerFactory.getLogger(KeptAliveMailSender.class);

    /**
     * When a connection is no longer used: idle for {@code idle}, open for {@code lifetime}, or
     * after {@code mailsPerConnection} mails.
     */
    public record Limits(Duration idle, Duration lifetime, int mailsPerConnection) {

        /** Idle 10 s, open 5 min, 100 mails. */
        public static final Limits DEFAULTS = new Limits(Duration.ofSeconds(10), Duration.ofMinutes(5), 100);

        public Limits {
            if (idle.isNegative() || idle.isZero() || lifetime.isNegative() || lifetime.isZero() || mailsPerConnection < 1) {
                throw new IllegalArgumentException("limits are positive");
            }
        }
    }

    private final Limits limits;
    private final LongSupplier clock;
    private final Deque<Connection> idle = new ArrayDeque<>();
    private int opened;
    private boolean closed;

    public KeptAliveMailSender(Limits limits) {
        this(limits, System::nanoTime);
    }

    KeptAliveMailSender(Limits limits, LongSupplier nanoClock) {
        this.limits = limits;
        this.clock = nanoClock;
    }

    private static final class Connection {
        final Transport transport;
        final long openedAt;
        long lastUsed;
        int mails;

        Connection(Transport transport, long openedAt) {
            this.transport = transport;
            this.openedAt = openedAt;
            this.lastUsed = openedAt;
        }
    }

    @Override
    public void send(MimeMessage message) throws MessagingException {
        prepare(message);
        Connection reused = takeUsable();
        if (reused != null) {
            try {
                sendOn(reused, message);
                return;
            } catch (MessagingException | RuntimeException e) {
                closeQuietly(reused);
                if (!connectionGone(e)) {
                    throw e;
                }
                LOG.debug("A kept SMTP connection was gone ({}); the mail goes out on a new one", e.getClass().getSimpleName());
            }
        }
        Connection fresh = open();
        try {
            sendOn(fresh, message);
        } catch (MessagingException | RuntimeException e) {
            closeQuietly(fresh);
            throw e;
        }
    }

    /**
     * Whether a failure says that the kept connection is gone: not connected any more, the relay's
     * {@code 421} (closing the channel) or no answer at all (end of stream, {@code -1}), or a broken
     * connection. Then a new connection is tried at once. Mostly the relay had closed the idle
     * connection before the mail; if it went away just after the mail's final dot, it may have taken
     * the mail, which then goes out twice, as it would with the route's redelivery (at least once).
     * Any other answer of the relay to this mail, and a timeout, go to the route's redelivery as on a
     * new connection.
     */
    static boolean connectionGone(Exception failure) {
        if (failure instanceof IllegalStateException) {
            return true; // Jakarta Mail: the transport is not connected
        }
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SocketTimeoutException) {
                return false;
            }
            int code = returnCode(cause);
            if (code == 421 || code == -1) {
                return true;
            }
            if (code > 0) {
                return false;
            }
            if (cause instanceof IOException) {
                return true; // reset, broken pipe
            }
        }
        return false;
    }

    /** The relay's reply code an SMTP failure carries; 0 when it carries none. */
    private static int returnCode(Throwable failure) {
        if (failure instanceof SMTPSendFailedException e) {
            return e.getReturnCode();
        }
        if (failure instanceof SMTPSenderFailedException e) {
            return e.getReturnCode();
        }
        if (failure instanceof SMTPAddressFailedException e) {
            return e.getReturnCode();
        }
        return 0;
    }

    /** What Camel's own sender does before sending: a date, and the Message-ID kept through {@code saveChanges}. */
    private static void prepare(MimeMessage message) throws MessagingException {
        if (message.getSentDate() == null) {
            message.setSentDate(new Date());
        }
        String messageId = message.getMessageID();
        message.saveChanges();
        if (messageId != null) {
            message.setHeader("Message-ID", messageId);
        }
    }

    private void sendOn(Connection connection, MimeMessage message) throws MessagingException {
        connection.transport.sendMessage(message, message.getAllRecipients());
        connection.mails++;
        connection.lastUsed = clock.getAsLong();
        giveBack(connection);
    }

    private Connection open() throws MessagingException {
        Transport transport = getTransport(getSession());
        PasswordAuthentication credentials = getPasswordAuthentication();
        transport.connect(getHost(), getPort(), credentials.getUserName(), credentials.getPassword());
        synchronized (this) {
            opened++;
        }
        return new Connection(transport, clock.getAsLong());
    }

    /** The most recently used connection within the limits; the ones past them are closed on the way. */
    private Connection takeUsable() {
        List<Connection> expired = new ArrayList<>();
        Connection usable = null;
        long now = clock.getAsLong();
        synchronized (this) {
            while (usable == null && !idle.isEmpty()) {
                Connection candidate = idle.pollFirst();
                if (usable(candidate, now)) {
                    usable = candidate;
                } else {
                    expired.add(candidate);
                }
            }
        }
        expired.forEach(KeptAliveMailSender::closeQuietly);
        return usable;
    }

    private boolean usable(Connection connection, long now) {
        return connection.mails < limits.mailsPerConnection()
                && now - connection.lastUsed < limits.idle().toNanos()
                && now - connection.openedAt < limits.lifetime().toNanos();
    }

    private void giveBack(Connection connection) {
        boolean keep;
        synchronized (this) {
            keep = !closed && connection.mails < limits.mailsPerConnection();
            if (keep) {
                idle.addFirst(connection);
            }
        }
        if (!keep) {
            closeQuietly(connection);
        }
    }

    /** Closes the connections idle (or open) longer than the limits allow; returns how many. */
    public int closeIdle() {
        List<Connection> expired = new ArrayList<>();
        long now = clock.getAsLong();
        synchronized (this) {
            idle.removeIf(connection -> !usable(connection, now) && expired.add(connection));
        }
        expired.forEach(KeptAliveMailSender::closeQuietly);
        return expired.size();
    }

    @Override
    public synchronized void start() {
        closed = false; // connections are opened by the first mails
    }

    /** Closes every kept connection; connections in use are closed when their mail is sent. */
    @Override
    public void stop() {
        List<Connection> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(idle);
            idle.clear();
        }
        all.forEach(KeptAliveMailSender::closeQuietly);
    }

    /** Connections opened so far. */
    public synchronized int connectionsOpened() {
        return opened;
    }

    /** Connections open and waiting for the next mail. */
    public synchronized int connectionsKept() {
        return idle.size();
    }

    private static void closeQuietly(Connection connection) {
        try {
            connection.transport.close();
        } catch (MessagingException | RuntimeException e) {
            LOG.debug("Closing an SMTP connection failed ({}); ignored", e.getClass().getSimpleName());
        }
    }
}
