package org.carerelay.gateway.infra;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Sizes the blocks of Netty's shared buffer pool for the gateway, before anything uses it. Artemis
 * copies every packet between the gateway's JMS sessions and the embedded broker (its in-VM
 * connections) into a heap buffer of that pool ({@code ActiveMQBuffers.pooledBuffer}). The pool
 * has two arenas per core, each thread draws from one, and an arena takes its memory in chunks of
 * {@code 8 KiB << io.netty.allocator.maxOrder}: 4 MiB with Netty's default of 9, and an arena's
 * first chunk stays for the life of the JVM. For packets of a few kilobytes that is 16 MiB of heap
 * on 2 cores, a tenth of an idle node's live heap. With {@value #MAX_ORDER} a chunk is 1 MiB; a
 * buffer larger than a chunk is allocated on its own and freed after use (Artemis splits messages
 * above 100 KiB into such pieces anyway, and the gateway's messages are far smaller).
 *
 * <p>Netty reads the setting once, when its pooled allocator is first used; an environment
 * post-processor runs before any bean and so before the broker and its clients start. A value the
 * operator set ({@code -Dio.netty.allocator.maxOrder=...}) is kept. The setting is a JVM-wide
 * system property, as Netty reads it: it also sizes the pool of a connection to an external broker.
 */
public class BrokerBufferPool implements EnvironmentPostProcessor {

    static final String MAX_ORDER_PROPERTY = "io.netty.allocator.maxOrder";
    /** 1 MiB chunks (8 KiB pages). */
    static final int MAX_ORDER = 7;

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        apply();
    }

    /** Sets {@value #MAX_ORDER_PROPERTY} to {@value #MAX_ORDER} unless it is set; true if it was set here. */
    static boolean apply() {
        synchronized (System.getProperties()) {
            if (System.getProperty(MAX_ORDER_PROPERTY) != null) {
                return false;
            }
            System.setProperty(MAX_ORDER_PROPERTY, Integer.toString(MAX_ORDER));
            return true;
        }
    }
}
