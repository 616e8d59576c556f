package org.carerelay.gateway.server;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.HardcodedServerAddressStrategy;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.interceptor.consent.ConsentInterceptor;
import java.util.List;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.config.PublicUrls;
import org.carerelay.gateway.fhir.CapabilityStatementCustomizer;
import org.carerelay.gateway.fhir.ErrorOutcomeInterceptor;
import org.carerelay.gateway.fhir.OperationDefinitionDetails;
import org.carerelay.gateway.fhir.OutageFilter;
import org.carerelay.gateway.fhir.PreferReturnInterceptor;
import org.carerelay.gateway.fhir.RequestGuardFilter;
import org.carerelay.gateway.fhir.UnsupportedInteractions;
import org.carerelay.gateway.pipeline.DeadLetterAdmin;
import org.carerelay.gateway.security.AccessRules;
import org.carerelay.gateway.security.AuthenticationInterceptor;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.info.BuildProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

/**
 * The HAPI FHIR server at {@code /fhir}, with its providers and interceptors. Server wiring sits
 * above the feature packages: it knows them all, none of them knows it.
 */
@Configuration(proxyBeanMethods = false)
public class FhirServerConfiguration {

    @Bean
    FhirContext fhirContext() {
        FhirContext context = FhirContext.forR4Cached();
        // the audit of a vread names the version read (Type/id/_history/v); HAPI strips versions from references otherwise
        context.getParserOptions().setDontStripVersionsFromReferencesAtPaths("AuditEvent.entity.what");
        return context;
    }

    @Bean
    ServletRegistrationBean<RestfulServer> fhirServlet(FhirContext fhirContext, List<IResourceProvider> providers,
            AuthenticationInterceptor authentication, ConsentInterceptor visibility,
            DeadLetterAdmin deadLetters, PublicUrls publicUrls,
            ObjectProvider<BuildProperties> build) {
        RestfulServer server = new RestfulServer(fhirContext) {
            @Override
            protected String createPoweredByHeader() {
                return null; // no X-Powered-By: the product and version help only an attacker
            }
        };
        server.setServerName("CareRelay");
        server.setServerVersion(version(build));
        server.setImplementationDescription("CareRelay secure messaging gateway");
        server.setDefaultResponseEncoding(EncodingEnum.JSON);
        server.setDefaultPrettyPrint(false);
        server.setResourceProviders(List.copyOf(providers));
        server.registerProvider(deadLetters);
        publicUrls.configuredFhirBase()
                .ifPresent(base -> server.setServerAddressStrategy(new HardcodedServerAddressStrategy(base)));
        server.registerInterceptor(new ErrorOutcomeInterceptor());
        server.registerInterceptor(new UnsupportedInteractions());
        server.registerInterceptor(authentication);
        server.registerInterceptor(new AccessRules());
        // after the access rules: what a caller sees of each resource, and the read audit
        server.registerInterceptor(visibility);
        server.registerInterceptor(new PreferReturnInterceptor());
        server.registerInterceptor(new CapabilityStatementCustomizer(version(build)));
        server.registerInterceptor(new OperationDefinitionDetails());
        ServletRegistrationBean<RestfulServer> registration = new ServletRegistrationBean<>(server, "/fhir/*");
        registration.setName("fhir");
        registration.setLoadOnStartup(1);
        return registration;
    }

    /** The version of this build (META-INF/build-info.properties, written by the Maven build). */
    private static String version(ObjectProvider<BuildProperties> build) {
        BuildProperties properties = build.getIfAvailable();
        return properties == null || properties.getVersion() == null ? "unknown" : properties.getVersion();
    }

    /** Outermost on {@code /fhir}: an unreachable database or broker is a 503 OperationOutcome wherever it shows. */
    @Bean
    FilterRegistrationBean<OutageFilter> outageFilter(FhirContext fhirContext) {
        FilterRegistrationBean<OutageFilter> registration = new FilterRegistrationBean<>(new OutageFilter(fhirContext));
        registration.addUrlPatterns("/fhir/*");
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 1);
        return registration;
    }

    @Bean
    FilterRegistrationBean<RequestGuardFilter> requestGuardFilter(FhirContext fhirContext, CareRelayProperties props) {
        FilterRegistrationBean<RequestGuardFilter> registration =
                new FilterRegistrationBean<>(new RequestGuardFilter(fhirContext, props.fhir().maxRequestBytes()));
        registration.addUrlPatterns("/fhir/*");
        // before the attachment filter, so parameters and headers of attachment requests are checked too
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE + 2);
        return registration;
    }
}
