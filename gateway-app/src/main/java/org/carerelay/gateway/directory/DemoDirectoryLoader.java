package org.carerelay.gateway.directory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.store.ResourceStore;
import org.hl7.fhir.r4.model.Organization;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * On first start (empty directory) loads the demo directory named by
 * {@code carerelay.directory.demo-file}, when {@code carerelay.directory.load-demo} is on. Nodes
 * that start together on one database load it once: the check and the import run under one
 * database lock, so the second node finds the directory filled instead of failing on its entries.
 */
@Component
public class DemoDirectoryLoader implements ApplicationRunner {

    private static final Logger log = LoggerFactory.getLogger(DemoDirectoryLoader.class);
    private final CareRelayProperties props;
    private final ResourceStore store;
    private final DirectoryImportService importer;
    private final JdbcClient jdbc;
    private final TransactionTemplate tx;

    public DemoDirectoryLoader(CareRelayProperties props, ResourceStore store, DirectoryImportService importer, JdbcClient jdbc,
            TransactionTemplate tx) {
        this.props = props;
        this.store = store;
        this.importer = importer;
        this.jdbc = jdbc;
        this.tx = tx;
    }

    @Override
    public void run(ApplicationArguments args) {
        String file = props.directory().demoFile();
        if (!props.directory().loadDemo() || file == null || file.isBlank()) {
            return;
        }
        if (store.count(Organization.class, null, Map.of()) > 0) {
            return;
        }
        Path path = Path.of(file);
        if (!Files.exists(path)) {
            log.warn("Demo directory {} not found; starting with an empty directory", path);
            return;
        }
        tx.executeWithoutResult(status -> {
            // held until the import commits; another node waits here, then finds the directory filled
            jdbc.sql("select pg_advisory_xact_lock(hashtext('carerelay:demo-directory'))").query(Object.class).optional();
            if (store.count(Organization.class, null, Map.of()) > 0) {
                return;
            }
            try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
                DirectoryImportService.Result result = importer.importCsv(reader, path.toString());
                log.info("Loaded the demo directory: {} organisations", result.created());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
