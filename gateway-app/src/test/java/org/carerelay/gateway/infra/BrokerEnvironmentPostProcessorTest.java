package org.carerelay.gateway.infra;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
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

    /** What each URL becomes; the right-hand sides were checked against Artemis 2.43's own parsing. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # what the operator set is kept
            (tcp://a:1,tcp://b:2)?ha=true&reconnectAttempts=5                 | (tcp://a:1,tcp://b:2)?ha=true&reconnectAttempts=5&callTimeout=10000
            (tcp://a:1,tcp://b:2)?callTimeout=60000&ha=true&reconnectAttempts=5 | (tcp://a:1,tcp://b:2)?callTimeout=60000&ha=true&reconnectAttempts=5
            (tcp://a:1,tcp://b:2)?ha=TRUE                                     | (tcp://a:1,tcp://b:2)?ha=TRUE&reconnectAttempts=-1&callTimeout=10000
            # every URL gets the shorter call timeout, also one without parameters or without ha
            tcp://a:1                                                         | tcp://a:1?callTimeout=10000
            vm://0                                                            | vm://0?callTimeout=10000
            tcp://a:1?retryInterval=500                                       | tcp://a:1?retryInterval=500&callTimeout=10000
            tcp://a:1?                                                        | tcp://a:1?callTimeout=10000
            # Artemis also separates parameters with ;
            tcp://a:1?retryInterval=500;callTimeout=60000                     | tcp://a:1?retryInterval=500;callTimeout=60000
            # Artemis reads names as written: CallTimeout is not its call timeout
            tcp://a:1?CallTimeout=45000                                       | tcp://a:1?CallTimeout=45000&callTimeout=10000
            # connectors' own parameters; those of the first apply to the client as well
            (tcp://a:1?sslEnabled=true,tcp://b:2?sslEnabled=true)             | (tcp://a:1?sslEnabled=true,tcp://b:2?sslEnabled=true)?callTimeout=10000
            (tcp://a:1?callTimeout=60000,tcp://b:2)?ha=true                   | (tcp://a:1?callTimeout=60000,tcp://b:2)?ha=true&reconnectAttempts=-1
            # a later connector's parameters are its own only
            (tcp://a:1,tcp://b:2?callTimeout=60000)?ha=true                   | (tcp://a:1,tcp://b:2?callTimeout=60000)?ha=true&reconnectAttempts=-1&callTimeout=10000
            # masked passwords: their parentheses neither end nor start a list of connectors
            tcp://a:1?sslEnabled=true&trustStorePassword=ENC(3a34fd21b82bf2a8) | tcp://a:1?sslEnabled=true&trustStorePassword=ENC(3a34fd21b82bf2a8)&callTimeout=10000
            (tcp://a:1?trustStorePassword=ENC(ab),tcp://b:2)?ha=true&keyStorePassword=ENC(cd) | (tcp://a:1?trustStorePassword=ENC(ab),tcp://b:2)?ha=true&keyStorePassword=ENC(cd)&reconnectAttempts=-1&callTimeout=10000
            """)
    void url_getsTheClientDefaultsItDoesNotSetItself(String url, String expected) {
        assertThat(BrokerEnvironmentPostProcessor.withClientDefaults(url)).isEqualTo(expected);
    }
}
