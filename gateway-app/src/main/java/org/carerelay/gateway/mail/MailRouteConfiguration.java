package org.carerelay.gateway.mail;

import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.routes.mail.MailTransportSettings;
import org.carerelay.routes.mail.OutboundMailRoute;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Wires the outbound-mail route: SMTP when a host is configured, else .eml files in the outbox;
 * {@code carerelay.mail.consumers} mails at a time.
 */
@Configuration(proxyBeanMethods = false)
public class MailRouteConfiguration {

    @Bean
    OutboundMailRoute outboundMailRoute(CareRelayProperties props) {
        var smtp = props.mail().smtp();
        var settings = new MailTransportSettings(
                blankToNull(smtp.host()), smtp.port(), blankToNull(smtp.username()), blankToNull(smtp.password()),
                smtp.starttls(), smtp.ssl(), props.outboxDir().toAbsolutePath().normalize());
        String queue = "jms:queue:" + props.queue().mail();
        return new OutboundMailRoute(consumerUri(queue, props.mail().effectiveConsumers()), settings, queue + ".dlq");
    }

    /**
     * Several consumers: a mail mostly waits for the SMTP server (MAIL/RCPT/DATA on a connection kept
     * open between mails; connect, greeting, EHLO, TLS and AUTH when a new one is opened), and one
     * consumer would send them one after the other, however long the queue. Each consumer keeps the
     * route's redelivery and dead-lettering.
     *
     * <p>{@code CLIENT_ACKNOWLEDGE}: the listener container acknowledges a mail only after the route
     * is done with it, sent or moved to the dead letter queue. Its default ({@code AUTO_ACKNOWLEDGE})
     * acknowledges before the route runs, so a mail in flight or waiting for its next attempt was lost
     * when the node stopped. Now it stays on the queue for the next consumer (at least once: a mail
     * sent just before a node dies may go out again).
     */
    static String consumerUri(String queue, int consumers) {
        return queue + "?concurrentConsumers=" + consumers + "&acknowledgementModeName=CLIENT_ACKNOWLEDGE";
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
