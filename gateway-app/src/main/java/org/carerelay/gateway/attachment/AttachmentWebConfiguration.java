package org.carerelay.gateway.attachment;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.server.RestfulServer;
import org.carerelay.gateway.audit.AuditService;
import org.carerelay.gateway.directory.DirectoryService;
import org.carerelay.gateway.security.AuthenticationInterceptor;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

/** Puts the attachment streams in front of the FHIR servlet and its buffering request guard. */
@Configuration(proxyBeanMethods = false)
public class AttachmentWebConfiguration {

    @Bean
    FilterRegistrationBean<BinaryStreamingFilter> binaryStreamingFilter(AttachmentService attachments,
            AuthenticationInterceptor authentication, AuditService audit, DirectoryService directory,
            FhirContext fhirContext, ServletRegistrationBean<RestfulServer> fhirServlet) {
        FilterRegistrationBean<BinaryStreamingFilter> registration = new FilterRegistrationBean<>(new BinaryStreamingFilter(
                attachments, authentication, audit, directory, fhirContext, fhirServlet.getServlet().getServerAddressStrategy()));
        registration.addUrlPatterns("/fhir/Binary", "/fhir/Binary/*");
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 5);
        return registration;
    }
}
