package org.carerelay.gateway.infra;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

class BrokerEnvironmentPostProcessorTest {

    private static MockEnvironment configure(String url) {
        MockEnvironment environment = new MockEnvironment().withProperty("carerelay.broker.url", url)
                .withProperty("carerelay.broker.user", "carerelay").withProperty("carerelay.broker.password", "secret");
        new BrokerEnvironmentPostProcessor().postProcessEnvironment(environment, null);
        return environment;
    }

    @Test
    void externalBroker_switchesOffTheEmbeddedServer() {
        MockEnvironment environment = configure("tcp://artemis-1:61616");
        assertThat(environment.getProperty("spring.artemis.mode")).isEqualTo("native");
        assertThat(environment.getProperty("spring.artemis.embedded.enabled")).isEqualTo("false");
        assertThat(environment.getProperty("spring.artemis.broker-url")).isEqualTo("tcp://artemis-1:61616?callTimeout=10000");
        assertThat(environment.getProperty("spring.artemis.user")).isEqualTo("carerelay");
    }

    @Test
    void haPairWithoutReconnectAttempts_getsUnlimitedReconnectsSoTheClientFailsOver() {
        assertThat(configure("(tcp://a:61616,tcp://b:61616)?ha=true").getProperty("spring.artemis.broker-url"))
                .isEqualTo("(tcp://a:61616,tcp://b:61616)?ha=true&reconnectAttempts=-1&callTimeout=10000");
    }

    @Test
    void reconnectAttemptsTheOperatorSet_areKept() {
        assertThat(BrokerEnvironmentPostProcessor.withFailoverDefaults("(tcp://a:1,tcp://b:2)?ha=true&reconnectAttempts=5"))
                .isEqualTo("(tcp://a:1,tcp://b:2)?ha=true&reconnectAttempts=5&callTimeout=10000");
        assertThat(BrokerEnvironmentPostProcessor.withFailoverDefaults("(tcp://a:1,tcp://b:2)?callTimeout=60000&ha=true&reconnectAttempts=5"))
                .isEqualTo("(tcp://a:1,tcp://b:2)?callTimeout=60000&ha=true&reconnectAttempts=5");
    }

    @Test
    void everyUrl_getsTheShorterCallTimeout_unlessItNamesOne() {
        assertThat(BrokerEnvironmentPostProcessor.withFailoverDefaults("tcp://a:1")).isEqualTo("tcp://a:1?callTimeout=10000");
        assertThat(BrokerEnvironmentPostProcessor.withFailoverDefaults("vm://0")).isEqualTo("vm://0?callTimeout=10000");
        assertThat(BrokerEnvironmentPostProcessor.withFailoverDefaults("tcp://a:1?retryInterval=500"))
                .isEqualTo("tcp://a:1?retryInterval=500&callTimeout=10000");
        assertThat(BrokerEnvironmentPostProcessor.withFailoverDefaults("tcp://a:1?")).isEqualTo("tcp://a:1?callTimeout=10000");
        assertThat(BrokerEnvironmentPostProcessor.withFailoverDefaults("tcp://a:1?retryInterval=500;callTimeout=60000"))
                .as("Artemis also separates parameters with ;").isEqualTo("tcp://a:1?retryInterval=500;callTimeout=60000");
        // Artemis reads names as written: CallTimeout is not its call timeout
        assertThat(BrokerEnvironmentPostProcessor.withFailoverDefaults("tcp://a:1?CallTimeout=45000"))
                .isEqualTo("tcp://a:1?CallTimeout=45000&callTimeout=10000");
    }

    @Test
    void parametersOfTheConnectorsAndParenthesesInValues_areTakenForWhatTheyAre() {
        assertThat(BrokerEnvironmentPostProcessor.withFailoverDefaults("(tcp://a:1?sslEnabled=true,tcp://b:2?sslEnabled=true)"))
                .isEqualTo("(tcp://a:1?sslEnabled=true,tcp://b:2?sslEnabled=true)?callTimeout=10000");
        // the first connector's parameters apply to the client as well
        assertThat(BrokerEnvironmentPostProcessor.withFailoverDefaults("(tcp://a:1?callTimeout=60000,tcp://b:2)?ha=true"))
                .isEqualTo("(tcp://a:1?callTimeout=60000,tcp://b:2)?ha=true&reconnectAttempts=-1");
        // a masked password: its parentheses do not end the list of connectors, nor start one
        assertThat(BrokerEnvironmentPostProcessor.withFailoverDefaults("tcp://a:1?sslEnabled=true&trustStorePassword=ENC(3a34fd21b82bf2a822fa49a8d8fa115d)"))
                .isEqualTo("tcp://a:1?sslEnabled=true&trustStorePassword=ENC(3a34fd21b82bf2a822fa49a8d8fa115d)&callTimeout=10000");
        assertThat(BrokerEnvironmentPostProcessor.withFailoverDefaults("(tcp://a:1?trustStorePassword=ENC(ab),tcp://b:2)?ha=true&keyStorePassword=ENC(cd)"))
                .isEqualTo("(tcp://a:1?trustStorePassword=ENC(ab),tcp://b:2)?ha=true&keyStorePassword=ENC(cd)&reconnectAttempts=-1&callTimeout=10000");
    }
}
