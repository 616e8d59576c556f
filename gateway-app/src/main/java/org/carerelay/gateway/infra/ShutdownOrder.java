package org.carerelay.gateway.infra;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Camel's routes use the database until they have stopped, so the Camel context depends on the
 * data source: Spring then stops Camel (finishing in-flight work) before it closes the pool and
 * the embedded PostgreSQL.
 */
@Configuration(proxyBeanMethods = false)
public class ShutdownOrder {

    @Bean
    static BeanFactoryPostProcessor camelStopsBeforeTheDatabase() {
        return beanFactory -> {
            if (!beanFactory.containsBeanDefinition("camelContext") || !beanFactory.containsBeanDefinition("dataSource")) {
                return;
            }
            BeanDefinition camel = beanFactory.getBeanDefinition("camelContext");
            List<String> dependsOn = new ArrayList<>(camel.getDependsOn() == null ? List.of() : Arrays.asList(camel.getDependsOn()));
            dependsOn.add("dataSource");
            camel.setDependsOn(dependsOn.toArray(String[]::new));
        };
    }
}
