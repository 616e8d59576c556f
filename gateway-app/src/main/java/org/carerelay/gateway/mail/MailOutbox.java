package org.carerelay.gateway.mail;

import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.routes.mail.MailComposer;
import org.carerelay.routes.mail.OutboundMail;
import org.apache.camel.ProducerTemplate;
import org.springframework.stereotype.Component;

/**
 * Hands outbound mail to the persistent mail queue; the {@code outbound-mail} route sends it by
 * SMTP or writes it to the outbox folder. Once {@link #send} returns, the mail is durable.
 */
@Component
public class MailOutbox {

    private final ProducerTemplate producer;
    private final MailComposer composer;
    private final String queueUri;

    public MailOutbox(ProducerTemplate producer, CareRelayProperties props) {
        this.producer = producer;
        this.composer = new MailComposer(props.mail().from());
        this.queueUri = "jms:queue:" + props.queue().mail();
    }

    public void send(OutboundMail mail) {
        producer.sendBody(queueUri, composer.toRfc822(mail));
    }
}
