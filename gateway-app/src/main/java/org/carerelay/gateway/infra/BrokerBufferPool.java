package org.carerelay.gateway.infra;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Sizes the blocks of Netty's pooled buffer allocator for the gateway, before anything uses it.
 * Artemis copies every packet between the gateway's JMS sessions and the embedded broker (its in-VM
 * connections) into a heap buffer of that pool ({@code ActiveMQBuffers.pooledBuffer}). The pool
 * has two arenas per core, each thread draws from one, and an arena takes its memory in chunks of
 * {@code 8 KiB << io.netty.allocator.maxOrder}: 4 MiB with Netty's default of 9. Netty never frees
 * a chunk of an arena's first list (one that never got beyond a quarter full), so on 2 cores 16 MiB
 * of heap stay for packets of a few kilobytes, a tenth of an idle node's live heap. With
 * {@value #MAX_ORDER} a chunk is 1 MiB. Artemis sends a message above 100 KiB in pieces of at most
 * 100 KiB, which fit a chunk; a single buffer larger than a chunk would be allocated on its own and
 * freed after use.
 *
 * <p>Netty reads the setting once, when its pooled allocator is initialised (loading Artemis'
 * buffer class does that); an environment post-processor runs before any bean and so before the
 * broker and its clients start. A value the operator set ({@code -Dio.netty.allocator.maxOrder=...})
 * is kept. Only that allocator reads it: a connection to an external broker uses Netty's default
 * (adaptive) allocator and is not affected.
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
        return System.getProperties().putIfAbsent(MAX_ORDER_PROPERTY, Integer.toString(MAX_ORDER)) == null;
    }
}
