package org.carerelay.gateway.ops;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Java agent as monitoring agents are (it watches class loading and changes nothing) and a main
 * that loads the classes it is given: {@link ExtractedLayoutIT} runs both in one JVM with the
 * class-data archive, as an operator who adds an APM agent to the {@code java} line would. Prints
 * how many of the classes loaded; a class that cannot be loaded here (a dependency left out of the
 * build) is skipped. One class without nested ones: its jar holds this class file alone.
 */
public final class AgentProbe implements ClassFileTransformer {

    private static final AtomicInteger SEEN = new AtomicInteger();

    private AgentProbe() {
    }

    public static void premain(String arguments, Instrumentation instrumentation) {
        instrumentation.addTransformer(new AgentProbe());
    }

    @Override
    public byte[] transform(ClassLoader loader, String name, Class<?> redefined, ProtectionDomain domain, byte[] bytes) {
        SEEN.incrementAndGet();
        return null; // unchanged
    }

    public static void main(String[] names) {
        int loaded = 0;
        for (String name : names) {
            try {
                Class.forName(name.replace('/', '.'), false, AgentProbe.class.getClassLoader());
                loaded++;
            } catch (ClassNotFoundException | LinkageError e) {
                // not loadable here: not what this probe is about
            }
        }
        System.out.println("loaded " + loaded + " of " + names.length + " classes; the agent saw " + SEEN.get() + " class loads");
    }
}
