package org.carerelay.routes.mail;

import com.icegreen.greenmail.configuration.GreenMailConfiguration;
import com.icegreen.greenmail.junit5.GreenMailExtension;
import com.icegreen.greenmail.util.ServerSetupTest;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.camel.CamelContext;
import org.apache.camel.component.mail.MailEndpoint;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.impl.DefaultCamelContext;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * SMTP connections kept open between mails, against a real SMTP server (GreenMail) behind a TCP
 * relay that counts the connections and can cut them, as a server closing an idle client does.
 */
class KeptAliveMailSenderTest {

    @RegisterExtension
    static final GreenMailExtension GREEN_MAIL = new GreenMailExtension(ServerSetupTest.SMTP.dynamicPort())
            .withConfiguration(GreenMailConfiguration.aConfig().withUser("relay@carerelay.example", "relay", "secret"));

    private final MailComposer composer = new MailComposer("CareRelay <noreply@carerelay.example>");
    private Relay relay;
    private CamelContext context;

    @BeforeEach
    void startRelay() throws IOException {
        relay = new Relay(GREEN_MAIL.getSmtp().getPort());
    }

    @AfterEach
    void stop() throws Exception {
        if (context != null) {
            context.close();
        }
        relay.close();
    }

    @Test
    void mailsThroughTheRoute_shareOneAuthenticatedConnection_andStoppingTheRouteClosesIt() throws Exception {
        startRoute(KeptAliveMailSender.Limits.DEFAULTS, "relay", "secret");

        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(sendThroughRoute("empfaenger" + i + "@example.org"));
        }

        assertThat(GREEN_MAIL.waitForIncomingEmail(5_000, 5)).isTrue();
        assertThat(receivedIds()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(relay.accepted()).isEqualTo(1);
        assertThat(context.getEndpoint("mock:dead", MockEndpoint.class).getReceivedCounter()).isZero();
        // Camel configured the sender as its own: connecting and each answer time out
        MailEndpoint endpoint = context.getEndpoints().stream().filter(MailEndpoint.class::isInstance)
                .map(MailEndpoint.class::cast).findFirst().orElseThrow();
        assertThat(endpoint.getConfiguration().getJavaMailSender()).isInstanceOf(KeptAliveMailSender.class);
        assertThat(endpoint.getConfiguration().getJavaMailSender().getSession().getProperties())
                .containsEntry("mail.smtp.connectiontimeout", 30_000).containsEntry("mail.smtp.timeout", 30_000)
                .containsEntry("mail.smtp.auth", "true").containsEntry("mail.smtp.quitwait", "false");

        context.close();
        context = null;
        relay.awaitAllClosed();
    }

    @Test
    void connectionCutBetweenMails_theNextMailGoesOutOnANewConnection_once() throws Exception {
        startRoute(KeptAliveMailSender.Limits.DEFAULTS);
        String first = sendThroughRoute("a@example.org");
        assertThat(GREEN_MAIL.waitForIncomingEmail(5_000, 1)).isTrue();

        relay.cutAll();
        String second = sendThroughRoute("b@example.org");

        assertThat(GREEN_MAIL.waitForIncomingEmail(5_000, 2)).isTrue();
        assertThat(receivedIds()).containsExactlyInAnyOrder(first, second);
        assertThat(relay.accepted()).isEqualTo(2);
        assertThat(context.getEndpoint("mock:dead", MockEndpoint.class).getReceivedCounter()).isZero();
    }

    @Test
    void keptConnectionCut_theSenderItselfSendsOnANewConnectionAtOnce() throws Exception {
        KeptAliveMailSender sender = sender(KeptAliveMailSender.Limits.DEFAULTS, new AtomicLong());
        sender.send(mail("a@example.org"));

        relay.cutAll();
        sender.send(mail("b@example.org")); // no failure reaches the caller

        assertThat(sender.connectionsOpened()).isEqualTo(2);
        assertThat(GREEN_MAIL.waitForIncomingEmail(5_000, 2)).isTrue();
        assertThat(relay.accepted()).isEqualTo(2);
        sender.stop();
    }

    @Test
    void idleTooLong_theConnectionIsClosedAndANewOneOpened() throws Exception {
        AtomicLong now = new AtomicLong();
        KeptAliveMailSender sender = sender(new KeptAliveMailSender.Limits(Duration.ofSeconds(10), Duration.ofMinutes(5), 100), now);

        sender.send(mail("a@example.org"));
        now.addAndGet(Duration.ofSeconds(9).toNanos());
        sender.send(mail("b@example.org"));
        assertThat(sender.connectionsOpened()).isEqualTo(1);

        now.addAndGet(Duration.ofSeconds(10).toNanos());
        assertThat(sender.closeIdle()).isEqualTo(1);
        assertThat(sender.connectionsKept()).isZero();
        relay.awaitAllClosed();

        sender.send(mail("c@example.org"));
        assertThat(sender.connectionsOpened()).isEqualTo(2);
        assertThat(GREEN_MAIL.waitForIncomingEmail(5_000, 3)).isTrue();
        sender.stop();
    }

    @Test
    void afterItsLastMail_theConnectionIsClosed_andANewOneOpened() throws Exception {
        KeptAliveMailSender sender = sender(new KeptAliveMailSender.Limits(Duration.ofSeconds(10), Duration.ofMinutes(5), 2), new AtomicLong());

        sender.send(mail("a@example.org"));
        sender.send(mail("b@example.org")); // the connection's last
        assertThat(sender.connectionsKept()).isZero();
        relay.awaitAllClosed();
        sender.send(mail("c@example.org"));

        assertThat(sender.connectionsOpened()).isEqualTo(2);
        assertThat(GREEN_MAIL.waitForIncomingEmail(5_000, 3)).isTrue();
        assertThat(relay.accepted()).isEqualTo(2);
        sender.stop();
        relay.awaitAllClosed();
    }

    @Test
    void openTooLong_aNewConnectionIsOpened() throws Exception {
        AtomicLong now = new AtomicLong();
        KeptAliveMailSender sender = sender(new KeptAliveMailSender.Limits(Duration.ofSeconds(60), Duration.ofSeconds(30), 100), now);

        sender.send(mail("a@example.org"));
        now.addAndGet(Duration.ofSeconds(20).toNanos());
        sender.send(mail("b@example.org"));
        assertThat(sender.connectionsOpened()).isEqualTo(1);
        now.addAndGet(Duration.ofSeconds(11).toNanos()); // idle 11 s of 60, but open 31 s of 30
        sender.send(mail("c@example.org"));

        assertThat(sender.connectionsOpened()).isEqualTo(2);
        assertThat(GREEN_MAIL.waitForIncomingEmail(5_000, 3)).isTrue();
        assertThat(relay.accepted()).isEqualTo(2);
        sender.stop();
        relay.awaitAllClosed();
    }

    @Test
    void serverUnreachable_theFailureReachesTheCaller_andNothingIsKept() throws Exception {
        KeptAliveMailSender sender = sender(KeptAliveMailSender.Limits.DEFAULTS, new AtomicLong());
        sender.send(mail("a@example.org"));
        relay.refuseAll(); // the server goes away: the kept connection is cut, new ones are dropped at once

        assertThatThrownBy(() -> sender.send(mail("b@example.org"))).isInstanceOf(MessagingException.class);
        assertThat(sender.connectionsKept()).isZero();
        assertThat(GREEN_MAIL.getReceivedMessages()).hasSize(1);
    }

    @Test
    void onlyAConnectionThatIsGone_isTriedAgainAtOnce() {
        assertThat(KeptAliveMailSender.connectionGone(new IllegalStateException("Not connected"))).isTrue();
        assertThat(KeptAliveMailSender.connectionGone(new MessagingException("Can't send command", new SocketException("Broken pipe"))))
                .isTrue();
        assertThat(KeptAliveMailSender.connectionGone(smtpFailure(421))).as("the relay closes the channel").isTrue();
        assertThat(KeptAliveMailSender.connectionGone(smtpFailure(-1))).as("no answer: end of stream").isTrue();
        // the relay answered this mail, or may have taken it: the route's redelivery decides
        assertThat(KeptAliveMailSender.connectionGone(smtpFailure(550))).isFalse();
        assertThat(KeptAliveMailSender.connectionGone(smtpFailure(451))).isFalse();
        assertThat(KeptAliveMailSender.connectionGone(new MessagingException("Exception reading response",
                new SocketTimeoutException("Read timed out")))).isFalse();
        assertThat(KeptAliveMailSender.connectionGone(new MessagingException("no reason"))).isFalse();
    }

    private static MessagingException smtpFailure(int code) {
        return new SMTPSendFailedException("MAIL FROM", code, code + " refused", null, null, null, null);
    }

    @Test
    void limitsArePositive() {
        assertThatThrownBy(() -> new KeptAliveMailSender.Limits(Duration.ZERO, Duration.ofSeconds(1), 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new KeptAliveMailSender.Limits(Duration.ofSeconds(1), Duration.ofSeconds(1), 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private void startRoute(KeptAliveMailSender.Limits limits) throws Exception {
        startRoute(limits, null, null);
    }

    private void startRoute(KeptAliveMailSender.Limits limits, String username, String password) throws Exception {
        context = new DefaultCamelContext();
        context.addRoutes(new OutboundMailRoute("direct:mail",
                new MailTransportSettings("localhost", relay.port(), username, password, false, false, null), "mock:dead",
                new RedeliveryPolicySettings(2, 10, 2.0, 50), limits));
        context.start();
    }

    private String sendThroughRoute(String to) throws MessagingException {
        byte[] raw = composer.toRfc822(new OutboundMail("notification", to, "Neue Nachricht", "Guten Tag"));
        context.createProducerTemplate().sendBody("direct:mail", raw);
        return MailComposer.parse(raw).getMessageID();
    }

    private KeptAliveMailSender sender(KeptAliveMailSender.Limits limits, AtomicLong clock) {
        KeptAliveMailSender sender = new KeptAliveMailSender(limits, clock::get);
        sender.setProtocol("smtp");
        sender.setHost("localhost");
        sender.setPort(relay.port());
        return sender;
    }

    private MimeMessage mail(String to) {
        return MailComposer.parse(composer.toRfc822(new OutboundMail("notification", to, "Neue Nachricht", "Guten Tag")));
    }

    private static List<String> receivedIds() {
        return Arrays.stream(GREEN_MAIL.getReceivedMessages()).map(m -> {
            try {
                return m.getMessageID();
            } catch (MessagingException e) {
                throw new IllegalStateException(e);
            }
        }).toList();
    }

    /** Forwards TCP connections to the SMTP server; counts them, can cut them all. */
    static final class Relay implements AutoCloseable {

        private final ServerSocket server;
        private final int target;
        private final AtomicInteger accepted = new AtomicInteger();
        private final List<Socket> sockets = new ArrayList<>();
        private final AtomicInteger open = new AtomicInteger();
        private volatile boolean refusing;

        Relay(int target) throws IOException {
            this.target = target;
            this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread acceptor = new Thread(this::accept, "smtp-relay");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        int accepted() {
            return accepted.get();
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket client = server.accept();
                    if (refusing) {
                        client.close();
                        continue;
                    }
                    Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
                    accepted.incrementAndGet();
                    open.incrementAndGet();
                    synchronized (sockets) {
                        sockets.add(client);
                        sockets.add(upstream);
                    }
                    AtomicInteger ends = new AtomicInteger();
                    pump(client, upstream, ends);
                    pump(upstream, client, ends);
                } catch (IOException e) {
                    return; // closed
                }
            }
        }

        private void pump(Socket from, Socket to, AtomicInteger ends) {
            Thread pump = new Thread(() -> {
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    in.transferTo(out);
                } catch (IOException e) {
                    // cut
                } finally {
                    closeQuietly(from);
                    closeQuietly(to);
                    if (ends.incrementAndGet() == 2) {
                        open.decrementAndGet();
                    }
                }
            }, "smtp-relay-pump");
            pump.setDaemon(true);
            pump.start();
        }

        /** Cuts every connection and drops new ones as soon as they are made. */
        void refuseAll() throws InterruptedException {
            refusing = true;
            cutAll();
        }

        void cutAll() throws InterruptedException {
            synchronized (sockets) {
                sockets.forEach(Relay::closeQuietly);
                sockets.clear();
            }
            awaitAllClosed();
        }

        /** Waits until no relayed connection is open any more. */
        void awaitAllClosed() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (open.get() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(open.get()).as("relayed connections still open").isZero();
        }

        @Override
        public void close() throws IOException {
            server.close();
            synchronized (sockets) {
                sockets.forEach(Relay::closeQuietly);
                sockets.clear();
            }
        }

        private static void closeQuietly(Socket socket) {
            try {
                socket.close();
            } catch (IOException e) {
                // already closed
            }
        }
    }
}
