package org.carerelay.gateway.infra;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.infra.DatabaseConfiguration.EmbeddedDatabase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationFailedEvent;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.event.ContextClosedEvent;

/**
 * Starts the embedded PostgreSQL on a thread of its own as soon as the application context exists,
 * while Spring still reads the configuration classes and creates the first beans: without it, the
 * server was started only when the first bean needed the database, and every start waited for it
 * (a restart about half a second, a first start about 3.5 s more to unpack the binaries and create
 * the cluster). The {@code embeddedDatabase} bean takes the server that is starting or has started
 * ({@link Starting#claim()}); if the context fails or closes before it did, the server is stopped.
 *
 * <p>Listed after {@link StartupChecks} in {@code META-INF/spring.factories}, so it runs once the
 * settings are complete, the ports are free and the data directory's lock is held. Nothing starts
 * early when {@code carerelay.db.url} names an external database.
 */
public class EmbeddedDatabaseEarlyStart implements ApplicationContextInitializer<ConfigurableApplicationContext> {

    static final String BEAN_NAME = "carerelay.embeddedDatabaseStarting";
    private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabaseEarlyStart.class);

    @Override
    public void initialize(ConfigurableApplicationContext context) {
        CareRelayProperties.Db db;
        Path dataDir;
        try {
            Binder binder = Binder.get(context.getEnvironment());
            db = binder.bind("carerelay.db", CareRelayProperties.Db.class).orElse(null);
            dataDir = binder.bind("carerelay.data-dir", Path.class).orElse(null);
        } catch (BindException e) {
            return; // reported when the settings are bound for the beans, as without this class
        }
        if (db == null || dataDir == null || db.external()) {
            return; // the bean decides, as without this class
        }
        Starting starting = Starting.begin(dataDir.toAbsolutePath().normalize(), db.embeddedDurable());
        context.getBeanFactory().registerSingleton(BEAN_NAME, starting);
        context.addApplicationListener(event -> {
            boolean closed = event instanceof ContextClosedEvent c && c.getApplicationContext() == context;
            boolean failed = event instanceof ApplicationFailedEvent f && f.getApplicationContext() == context;
            if (closed || failed) {
                starting.stopUnclaimed();
            }
        });
    }

    /** An embedded server being started: taken once by the bean that owns it from then on, or stopped. */
    static final class Starting {
        private final Path dataDir;
        private final boolean durable;
        private final CompletableFuture<EmbeddedDatabase> server = new CompletableFuture<>();
        private final AtomicBoolean taken = new AtomicBoolean();

        private Starting(Path dataDir, boolean durable) {
            this.dataDir = dataDir;
            this.durable = durable;
        }

        static Starting begin(Path dataDir, boolean durable) {
            Starting starting = new Starting(dataDir, durable);
            Thread thread = new Thread(() -> {
                try {
                    starting.server.complete(EmbeddedDatabase.start(dataDir, durable));
                } catch (Throwable e) {
                    starting.server.completeExceptionally(e);
                }
            }, "embedded-postgres-start");
            thread.setDaemon(true);
            thread.start();
            return starting;
        }

        /** Whether this is the server the settings ask for. */
        boolean serves(Path dataDir, boolean durable) {
            return this.dataDir.equals(dataDir) && this.durable == durable;
        }

        /**
         * The started server, once it has started; the caller closes it from then on. Throws what
         * made the start fail, as a start on the caller's thread would have.
         */
        EmbeddedDatabase claim() {
            if (!taken.compareAndSet(false, true)) {
                throw new IllegalStateException("The embedded PostgreSQL was already taken or stopped");
            }
            return await();
        }

        /**
         * Stops the server unless it was taken; waits for a start still under way (a start that the
         * process does not live to finish, killed or stopped by a signal, leaves a server that the
         * next start stops, as it did before).
         */
        void stopUnclaimed() {
            if (!taken.compareAndSet(false, true)) {
                return;
            }
            EmbeddedDatabase started;
            try {
                started = await();
            } catch (RuntimeException | Error e) {
                // the failure of another bean came first and ended the start: this one may be the cause
                log.warn("Embedded PostgreSQL did not start: {}", SafeExceptions.describe(e));
                return;
            }
            try {
                started.close();
            } catch (IOException | RuntimeException e) {
                log.warn("Embedded PostgreSQL not stopped, the next start stops it: {}", SafeExceptions.describe(e));
            }
        }

        /** The server once started, without taking it (tests). */
        EmbeddedDatabase started() {
            return await();
        }

        private EmbeddedDatabase await() {
            try {
                return server.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof RuntimeException runtime) {
                    throw runtime;
                }
                if (e.getCause() instanceof Error error) {
                    throw error;
                }
                throw e;
            }
        }
    }
}
