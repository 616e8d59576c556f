package org.carerelay.gateway.mail;

import jakarta.jms.BytesMessage;
import jakarta.jms.ConnectionFactory;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.routes.mail.MailComposer;
import org.carerelay.routes.mail.OutboundMail;
import org.springframework.jms.connection.DelegatingConnectionFactory;
import org.springframework.jms.core.JmsTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Hands outbound mail to the persistent mail queue; the {@code outbound-mail} route sends it by
 * SMTP or writes it to the outbox folder.
 *
 * <p>Called inside a database transaction, the mail goes to the queue just before that transaction
 * commits, after all its writes: a transaction that fails sends nothing (no letter with a code that
 * was never stored), and one whose mail cannot be queued fails. Called outside one, at once. Either
 * way the mail is durable on the broker before {@link #send} (or the commit) returns.
 *
 * <p>The send never joins a JMS transaction of the caller. A pipeline step runs in its work item's
 * JMS transaction and records its work in the database (a recipient notified, an invitation made),
 * which commits before the work item's acknowledgement. Were the mail part of the JMS transaction, a
 * node dying between the two commits would leave the work recorded as done and the mail never sent.
 * Sent on its own, before the database commit, it is sent at least once: a failed database commit,
 * or a node dying between the send and that commit, sends it again with the step's next attempt.
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
        send(compose(mail));
    }

    /**
     * The mail as it goes to the queue.
     *
     * @throws IllegalArgumentException when an address is refused by the mail library
     * @throws IllegalStateException    when the MIME structure cannot be written
     */
    public byte[] compose(OutboundMail mail) {
        return composer.toRfc822(mail);
    }

    /** Queues a mail made by {@link #compose}, as {@link #send(OutboundMail)} does. */
    public void send(byte[] raw) {
        if (TransactionSynchronizationManager.isSynchronizationActive()
                && TransactionSynchronizationManager.isActualTransactionActive()) {
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void beforeCommit(boolean readOnly) {
                    queue(raw); // a failure rolls the transaction back
                }
            });
        } else {
            queue(raw);
        }
    }

    private void queue(byte[] raw) {
        jms.send(queue, session -> {
            BytesMessage message = session.createBytesMessage();
            message.writeBytes(raw);
            return message;
        });
    }
}
