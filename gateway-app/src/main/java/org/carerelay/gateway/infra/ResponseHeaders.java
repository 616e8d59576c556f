package org.carerelay.gateway.infra;

import jakarta.servlet.ServletException;
import java.io.IOException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.springframework.boot.tomcat.TomcatContextCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * {@code X-Content-Type-Options: nosniff} on every response of the web server (FHIR, attachment
 * streams, errors, actuator, the web inbox), so a browser never renders an attachment or an error
 * body as anything but its declared type. Set by a valve in front of all filters, so a filter that
 * answers by itself cannot skip it.
 */
@Configuration(proxyBeanMethods = false)
public class ResponseHeaders {

    static final String NOSNIFF_HEADER = "X-Content-Type-Options";

    @Bean
    TomcatContextCustomizer noSniffHeader() {
        return context -> context.getPipeline().addValve(new NoSniffValve());
    }

    static final class NoSniffValve extends ValveBase {
        NoSniffValve() {
            super(true);
        }

        @Override
        public void invoke(Request request, Response response) throws IOException, ServletException {
            response.setHeader(NOSNIFF_HEADER, "nosniff");
            getNext().invoke(request, response);
        }
    }
}
