package org.carerelay.gateway.mail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageProducer;
import jakarta.jms.QueueBrowser;
import jakarta.jms.Session;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.activemq.artemis.core.config.impl.ConfigurationImpl;
import org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.apache.camel.CamelContext;
import org.apache.camel.component.jms.JmsComponent;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.carerelay.routes.mail.MailComposer;
import org.carerelay.routes.mail.MailTransportSettings;
import org.carerelay.routes.mail.OutboundMail;
import org.carerelay.routes.mail.OutboundMailRoute;
import org.carerelay.routes.mail.RedeliveryPolicySettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A mail leaves the broker's queue only once it was sent or dead-lettered: a node that stops while a
 * mail waits for the next SMTP attempt leaves it on the queue for the next consumer. Real broker
 * (embedded Artemis, in-VM), the route as the gateway wires it ({@link MailRouteConfiguration#consumerUri}),
 * an SMTP port that refuses every mail, then GreenMail.
 */
class MailQueueAcknowledgementIT {

    private static final String QUEUE = "carerelay.mail";
    private static final String DEAD_LETTERS = QUEUE + ".dlq";
    private static final int CONSUMERS = 2;
    /** Long enough that the route is still waiting for its second attempt when the test stops it. */
    private static final RedeliveryPolicySettings SLOW_RETRIES = new RedeliveryPolicySettings(3, 600_000L, 2.0, 600_000L);
    private static final RedeliveryPolicySettings FAST_RETRIES = new RedeliveryPolicySettings(1, 10L, 2.0, 10L);

    private final MailComposer composer = new MailComposer("CareRelay <noreply@carerelay.example>");
    private EmbeddedActiveMQ broker;
    private ActiveMQConnectionFactory connectionFactory;
    private RefusingSmtpServer refusingSmtp;
    private CamelContext context;
    private GreenMail greenMail;

    @BeforeEach
    void startBroker() throws Exception {
        int serverId = 4711;
        broker = new EmbeddedActiveMQ().setConfiguration(new ConfigurationImpl()
                .setPersistenceEnabled(false)
                .setSecurityEnabled(false)
                .addAcceptorConfiguration("in-vm", "vm://" + serverId));
        broker.start();
        connectionFactory = new ActiveMQConnectionFactory("vm://" + serverId);
        refusingSmtp = new RefusingSmtpServer();
    }

    @AfterEach
    void stopEverything() throws Exception {
        if (context != null) {
            context.close();
        }
        if (greenMail != null) {
            greenMail.stop();
        }
        refusingSmtp.close();
        connectionFactory.close();
        broker.stop();
    }

    @Test
    void mailWaitingForTheNextSmtpAttempt_staysOnTheQueueWhenTheNodeStops_andIsSentByTheNextConsumer() throws Exception {
        AtomicInteger failedSmtpSends = new AtomicInteger();
        context = startRoute(smtp(refusingSmtp.port()), SLOW_RETRIES, failedSmtpSends);
        byte[] mail = composer.toRfc822(new OutboundMail("registration-code", "praxis@example.org",
                "Ihr Registrierungscode", "Code: 1234-5678"));
        queue(mail);

        // the first attempt failed: the route now waits (ten minutes) for the redelivery
        await().atMost(Duration.ofSeconds(60)).until(() -> failedSmtpSends.get() >= 1);
        assertThat(refusingSmtp.connections()).isEqualTo(1);

        context.close(); // the node stops (the broker connection closes with it)
        context = null;

        assertThat(browse(QUEUE)).as("the mail is still on the broker's queue").isEqualTo(1);
        assertThat(browse(DEAD_LETTERS)).as("nothing dead-lettered").isZero();

        // another node, SMTP reachable: the mail goes out once, and leaves the queue
        greenMail = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP).dynamicPort());
        greenMail.start();
        context = startRoute(smtp(greenMail.getSmtp().getPort()), SLOW_RETRIES, new AtomicInteger());
        assertThat(greenMail.waitForIncomingEmail(60_000, 1)).isTrue();
        await().atMost(Duration.ofSeconds(60)).until(() -> browse(QUEUE) == 0);
        assertThat(greenMail.getReceivedMessages()).hasSize(1);
        assertThat(greenMail.getReceivedMessages()[0].getMessageID()).isEqualTo(MailComposer.parse(mail).getMessageID());
        assertThat(browse(DEAD_LETTERS)).isZero();
    }

    @Test
    void mailThatFailedForGood_isDeadLetteredOnce_andLeavesTheQueue() throws Exception {
        AtomicInteger failedSmtpSends = new AtomicInteger();
        context = startRoute(smtp(refusingSmtp.port()), FAST_RETRIES, failedSmtpSends);
        byte[] mail = composer.toRfc822(new OutboundMail("invitation", "pflege@example.org", "Einladung", "Bitte registrieren"));
        queue(mail);

        await().atMost(Duration.ofSeconds(60)).until(() -> browse(DEAD_LETTERS) == 1);
        await().atMost(Duration.ofSeconds(60)).until(() -> browse(QUEUE) == 0);
        context.close(); // acknowledged: stopping does not bring it back
        context = null;

        assertThat(browse(QUEUE)).isZero();
        assertThat(browse(DEAD_LETTERS)).isEqualTo(1);
        assertThat(failedSmtpSends.get()).as("first attempt and one redelivery").isEqualTo(2);
        try (Connection connection = connectionFactory.createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Message deadLetter = session.createConsumer(session.createQueue(DEAD_LETTERS)).receive(10_000);
            assertThat(deadLetter).isInstanceOf(BytesMessage.class);
            byte[] body = deadLetter.getBody(byte[].class);
            assertThat(body).as("the original mail").isEqualTo(mail);
            assertThat(deadLetter.getIntProperty(OutboundMailRoute.HEADER_ATTEMPTS)).isEqualTo(2);
        }
    }

    private CamelContext startRoute(MailTransportSettings smtp, RedeliveryPolicySettings redelivery,
                                    AtomicInteger failedSmtpSends) throws Exception {
        CamelContext camel = new DefaultCamelContext();
        camel.addComponent("jms", JmsComponent.jmsComponent(connectionFactory));
        // the node stops quickly, whatever the mail's redelivery delay
        camel.getShutdownStrategy().setTimeout(5);
        camel.getManagementStrategy().addEventNotifier(new EventNotifierSupport() {
            @Override
            public void notify(CamelEvent event) {
                if (event instanceof CamelEvent.ExchangeSentEvent sent
                        && sent.getEndpoint().getEndpointUri().startsWith("smtp:")
                        && sent.getExchange().getException() != null) {
                    failedSmtpSends.incrementAndGet();
                }
            }
        });
        String queue = "jms:queue:" + QUEUE;
        camel.addRoutes(new OutboundMailRoute(MailRouteConfiguration.consumerUri(queue, CONSUMERS), smtp,
                queue + ".dlq", redelivery));
        camel.start();
        return camel;
    }

    private static MailTransportSettings smtp(int port) {
        return new MailTransportSettings("127.0.0.1", port, null, null, false, false, null);
    }

    private void queue(byte[] mail) throws Exception {
        try (Connection connection = connectionFactory.createConnection()) {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = session.createProducer(session.createQueue(QUEUE));
            BytesMessage message = session.createBytesMessage();
            message.writeBytes(mail);
            producer.send(message);
        }
    }

    /** Messages on the queue, those delivered to a consumer but not acknowledged included. */
    private long browse(String queue) throws Exception {
        var control = broker.getActiveMQServer().locateQueue(queue);
        if (control == null) {
            try (Connection connection = connectionFactory.createConnection()) {
                Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
                QueueBrowser browser = session.createBrowser(session.createQueue(queue));
                return Collections.list(browser.getEnumeration()).size();
            }
        }
        return control.getMessageCount();
    }

    /** Answers every SMTP connection with {@code 554} (no service) and hangs up: each attempt fails at once. */
    private static final class RefusingSmtpServer implements AutoCloseable {
        private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final AtomicInteger connections = new AtomicInteger();
        private final Thread acceptor;

        RefusingSmtpServer() throws IOException {
            acceptor = new Thread(() -> {
                while (!socket.isClosed()) {
                    try (Socket client = socket.accept()) {
                        connections.incrementAndGet();
                        client.getOutputStream().write("554 no SMTP service here\r\n".getBytes(StandardCharsets.US_ASCII));
                        client.getOutputStream().flush();
                    } catch (IOException closed) {
                        // closed by the test
                    }
                }
            }, "refusing-smtp");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        int connections() {
            return connections.get();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
