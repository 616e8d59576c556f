package org.carerelay.gateway.pipeline;

import java.lang.reflect.Method;
import java.util.concurrent.ThreadPoolExecutor;
import org.apache.camel.builder.RouteBuilder;
import org.carerelay.gateway.config.CareRelayProperties;
import org.carerelay.gateway.infra.PublicationLeftOpen;
import org.carerelay.gateway.kernel.MessageAccepted;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.aop.interceptor.AsyncUncaughtExceptionHandler;
import org.springframework.aop.interceptor.SimpleAsyncUncaughtExceptionHandler;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.AsyncConfigurer;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;

/**
 * The hand-over of accepted messages: its threads, its failure log line and the timer that
 * resubmits open event publications.
 */
@Configuration(proxyBeanMethods = false)
public class AcceptedMessageConfiguration {

    static final String HAND_OVER_EXECUTOR = "messageAcceptedHandOver";
    private static final int HAND_OVER_THREADS = 4;
    private static final int HAND_OVER_QUEUE = 10_000;

    private static final Logger log = LoggerFactory.getLogger(AcceptedMessageListener.class);

    /**
     * When the threads are busy and the queue is full, a hand-over is dropped: its publication
     * stays open and is resubmitted (never a failure in the request that accepted the message).
     */
    @Bean(HAND_OVER_EXECUTOR)
    ThreadPoolTaskExecutor messageAcceptedHandOver() {
        ThreadPoolTaskExecutor executor = new ThreadPoolTaskExecutor();
        executor.setCorePoolSize(HAND_OVER_THREADS);
        executor.setMaxPoolSize(HAND_OVER_THREADS);
        executor.setQueueCapacity(HAND_OVER_QUEUE);
        executor.setThreadNamePrefix("message-accepted-");
        executor.setDaemon(true);
        executor.setRejectedExecutionHandler(new ThreadPoolExecutor.DiscardPolicy());
        executor.setWaitForTasksToCompleteOnShutdown(false); // what is left is open in the registry
        return executor;
    }

    /**
     * A failed hand-over is one line (ids only), a {@link PublicationLeftOpen} the line its listener
     * logged; other asynchronous failures as Spring logs them.
     */
    @Bean
    AsyncConfigurer asyncFailureLogging() {
        AsyncUncaughtExceptionHandler others = new SimpleAsyncUncaughtExceptionHandler();
        return new AsyncConfigurer() {
            @Override
            public AsyncUncaughtExceptionHandler getAsyncUncaughtExceptionHandler() {
                return (Throwable e, Method method, Object... params) -> {
                    if (method.getDeclaringClass() == AcceptedMessageListener.class && params.length == 1
                            && params[0] instanceof MessageAccepted accepted) {
                        log.warn("Message {} not handed to the broker now ({}); its event publication is resubmitted",
                                accepted.messageId(), e.getClass().getSimpleName());
                    } else if (!(e instanceof PublicationLeftOpen)) { // logged where it was thrown
                        others.handleUncaughtException(e, method, params);
                    }
                };
            }
        };
    }

    @Bean
    RouteBuilder eventPublicationResubmissionRoute(EventPublicationResubmission resubmission, CareRelayProperties props) {
        long period = props.pipeline().sweepInterval().toMillis();
        return new RouteBuilder() {
            @Override
            public void configure() {
                from("timer:event-publication-resubmission?period=" + period + "&delay=" + period)
                        .routeId("event-publication-resubmission")
                        .process(exchange -> resubmission.resubmitStale());
            }
        };
    }
}
