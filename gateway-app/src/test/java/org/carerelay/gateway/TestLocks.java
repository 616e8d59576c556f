package org.carerelay.gateway;

/**
 * Names of the JUnit resource locks ({@code @ResourceLock}) between the test classes that run
 * beside the others (junit-platform.properties) and those that run one after the other.
 */
public final class TestLocks {

    /**
     * Everything the test JVM logs. A test that reads all that is logged while it runs (an appender
     * on the root logger) and fails on an error or a stack trace takes it {@code READ_WRITE}; a class
     * that runs beside the others takes it {@code READ}: the servers it runs in this JVM (a broker, a
     * partner system, an SMTP server) log connections that break on purpose.
     */
    public static final String TEST_JVM_LOG = "test-jvm-log";

    private TestLocks() {
    }
}
