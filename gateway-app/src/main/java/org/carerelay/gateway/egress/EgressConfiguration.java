package org.carerelay.gateway.egress;

import com.zaxxer.hikari.HikariDataSource;
import java.net.URI;
import java.util.Set;
import java.util.TreeSet;
import javax.sql.DataSource;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.routes.egress.EgressPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * The egress policy for deliveries to partner systems, from {@code carerelay.egress.allowed}. The
 * gateway's own ports are taken from the running configuration at each check: the HTTP port
 * (the actual one once the server runs), the management port, the MLLP ports, and the database's
 * port when the database runs on this host.
 */
@Configuration
public class EgressConfiguration {

    private static final Logger log = LoggerFactory.getLogger(EgressConfiguration.class);

    @Bean
    EgressPolicy egressPolicy(EgressProperties properties, CareRelayProperties props, Environment env, DataSource dataSource) {
        Integer databasePort = localDatabasePort(dataSource);
        EgressPolicy policy = new EgressPolicy(properties.allowed(), () -> {
            Set<Integer> ports = new TreeSet<>();
            addPort(ports, env.getProperty("local.server.port"));
            addPort(ports, env.getProperty("server.port"));
            addPort(ports, env.getProperty("local.management.port"));
            addPort(ports, env.getProperty("management.server.port"));
            ports.add(props.hl7().port());
            if (props.hl7().tls() != null) {
                ports.add(props.hl7().tls().port());
            }
            if (databasePort != null) {
                ports.add(databasePort);
            }
            return ports;
        });
        if (!properties.allowed().isEmpty()) {
            log.info("Egress to partner systems also allowed for {}", properties.allowed());
        }
        return policy;
    }

    private static void addPort(Set<Integer> ports, String value) {
        if (value != null && value.matches("\\d{1,5}") && Integer.parseInt(value) > 0) {
            ports.add(Integer.parseInt(value));
        }
    }

    /** The database port if the JDBC URL names a local host (embedded PostgreSQL, or one beside the gateway). */
    private static Integer localDatabasePort(DataSource dataSource) {
        if (!(dataSource instanceof HikariDataSource hikari) || hikari.getJdbcUrl() == null) {
            return null;
        }
        try {
            URI uri = URI.create(hikari.getJdbcUrl().replaceFirst("^jdbc:", ""));
            String host = uri.getHost();
            if (host != null && (host.equals("localhost") || host.startsWith("127.") || host.equals("[::1]") || host.equals("::1"))) {
                return uri.getPort() == -1 ? 5432 : uri.getPort();
            }
        } catch (IllegalArgumentException e) {
            // an unusual JDBC URL: the database is then protected by the address rules alone
        }
        return null;
    }
}
