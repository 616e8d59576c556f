package org.carerelay.gateway.mail;

import jakarta.jms.BytesMessage;
import jakarta.jms.ConnectionFactory;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.routes.mail.MailComposer;
import org.carerelay.routes.mail.OutboundMail;
import org.springframework.jms.connection.DelegatingConnectionFactory;
import org.springframework.jms.core.JmsTemplate;
import org.springframework.stereotype.Component;

/**
 * Hands outbound mail to the persistent mail queue; the {@code outbound-mail} route sends it by
 * SMTP or writes it to the outbox folder. Once {@link #send} returns, the mail is durable on the
 * broker, whatever transaction the caller is in.
 *
 * <p>The send never joins a caller's transaction. A pipeline step runs in its work item's JMS
 * transaction, and marks its work done in the database (a recipient notified, an invitation
 * recorded), which commits before the work item's acknowledgement. Were the mail part of the JMS
 * transaction, a node dying between the two commits would leave the work recorded as done and the
 * mail never sent. Sent on its own, before the database commit, the mail is sent at least once: in
 * that window, the step's second attempt sends it a second time.
 */
@Component
public class MailOutbox {

    private final JmsTemplate jms;
    private final MailComposer composer;
    private final String queue;

    public MailOutbox(ConnectionFactory connectionFactory, CareRelayProperties props) {
        // Spring hands a JmsTemplate the session bound to its factory on this thread (the pipeline
        // listener's, transacted). A factory object of its own over the same connection has none.
        DelegatingConnectionFactory own = new DelegatingConnectionFactory();
        own.setTargetConnectionFactory(connectionFactory);
        this.jms = new JmsTemplate(own);
        this.jms.setSessionTransacted(false);
        this.jms.setExplicitQosEnabled(true);
        this.jms.setDeliveryPersistent(true);
        this.composer = new MailComposer(props.mail().from());
        this.queue = props.queue().mail();
    }

    public void send(OutboundMail mail) {
        byte[] raw = composer.toRfc822(mail);
        jms.send(queue, session -> {
            BytesMessage message = session.createBytesMessage();
            message.writeBytes(raw);
            return message;
        });
    }
}
