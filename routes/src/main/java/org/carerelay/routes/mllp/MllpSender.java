package org.carerelay.routes.mllp;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.ActiveConnection;
import ca.uhn.hl7v2.app.TimeoutException;
import ca.uhn.hl7v2.llp.LLPException;
import ca.uhn.hl7v2.llp.LowerLayerProtocol;
import ca.uhn.hl7v2.llp.MinLowerLayerProtocol;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.parser.CanonicalModelClassFactory;
import ca.uhn.hl7v2.parser.Parser;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.util.idgenerator.InMemoryIDGenerator;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.carerelay.routes.egress.EgressPolicy;

/**
 * Sends one ER7 message over MLLP and interprets the HL7 acknowledgement (original mode).
 *
 * <p>Each {@link #send} opens its own TCP connection and closes it afterwards. The socket is
 * connected by this class with {@code connectTimeout} (HAPI's {@code HapiContext.newClient} connects
 * without a timeout, so an unreachable host would block for minutes), then wrapped in HAPI's
 * {@link ActiveConnection}, whose initiator waits at most {@code ackTimeout} for the ACK. A watchdog
 * closes the connection shortly after {@code ackTimeout} in case writing itself blocks (peer not
 * reading).
 *
 * <p>The message is parsed without validation (model 2.5.1, {@link CanonicalModelClassFactory}) and
 * re-encoded by HAPI before sending, so it goes out normalised (e.g. {@code \r} segment separators).
 * Bytes are written in the character set named in MSH-18, UTF-8 if MSH-18 is empty.
 *
 * <p>Outcomes: {@code AA}/{@code CA} are {@link Outcome#ACCEPTED}; {@code AE}/{@code AR}/{@code CE}/
 * {@code CR} are {@link Outcome#REJECTED} (permanent, do not resend unchanged); everything else
 * (connect failure, timeout, reset, unparsable ACK or unknown MSA-1) is {@link Outcome#RETRY}.
 * {@link Result#detail()} never contains content of the sent message.
 *
 * <p>Thread-safe. No Spring, no JDBC. {@link #close()} stops the internal threads.
 *
 * <p>Why not camel-mllp's producer (which the listeners use): after a failed ACK read it
 * reconnects and sends the message again within the same exchange, so a partner that closed the
 * connection after storing the message would get it twice in what the pipeline records as one
 * attempt; and it writes without any bound, holding the lock of its endpoint, so a partner that stops
 * reading would block that delivery thread and every later delivery to the partner. Here a send is
 * one connection, one write and one ACK wait, ended by the watchdog at the latest.
 */
public final class MllpSender implements AutoCloseable {

    public enum Outcome {
        /** AA or CA. */
        ACCEPTED,
        /** AE, AR, CE or CR: permanent. */
        REJECTED,
        /** Timeout, connection refused or reset, unparsable ACK: try again later. */
        RETRY,
        /** The egress policy refuses the destination: permanent, nothing was sent. */
        REFUSED
    }

    /**
     * @param ackCode MSA-1 (AA, AE, AR, CA, CE, CR) or {@code null} if no usable ACK was received
     * @param detail  the ACK's text (MSA-3, ERR) or a description of the error; never message content
     */
    public record Result(Outcome outcome, String ackCode, String detail) {
    }

    private static final Set<String> ACCEPT_CODES = Set.of("AA", "CA");
    private static final Set<String> REJECT_CODES = Set.of("AE", "AR", "CE", "CR");
    private static final int MAX_DETAIL = 500;
    private static final int MAX_ERR_SEGMENTS = 5;
    /** Extra time before the watchdog closes a connection whose ACK wait did not end by itself. */
    private static final long WATCHDOG_GRACE_MILLIS = 500;

    private final Duration connectTimeout;
    private final Duration ackTimeout;
    private final HapiContext context;
    private final Parser parser;
    private final LowerLayerProtocol llp;
    private final ExecutorService executor;
    private final ScheduledExecutorService watchdog;
    /** Where connections may go; null: anywhere (only for callers that choose the host themselves). */
    private final EgressPolicy egress;

    public MllpSender(Duration connectTimeout, Duration ackTimeout) {
        this(connectTimeout, ackTimeout, null);
    }

    /**
     * @param egress checked after resolving the host (every address) and again right before
     *               connecting to the checked address; a refused destination is {@link Outcome#REFUSED}
     */
    public MllpSender(Duration connectTimeout, Duration ackTimeout, EgressPolicy egress) {
        this.egress = egress;
        this.connectTimeout = requirePositive(connectTimeout, "connectTimeout");
        this.ackTimeout = requirePositive(ackTimeout, "ackTimeout");
        this.executor = Executors.newCachedThreadPool(daemonThreads("mllp-sender-"));
        this.watchdog = Executors.newSingleThreadScheduledExecutor(daemonThreads("mllp-sender-watchdog-"));

        MinLowerLayerProtocol protocol = new MinLowerLayerProtocol(true); // respect MSH-18
        protocol.setCharset(StandardCharsets.UTF_8); // used when MSH-18 is empty
        this.llp = protocol;

        this.context = new DefaultHapiContext();
        context.setModelClassFactory(new CanonicalModelClassFactory("2.5.1"));
        context.setValidationContext(ValidationContextFactory.noValidation());
        context.getParserConfiguration().setValidating(false);
        // the default generator writes an id file into the working directory
        context.getParserConfiguration().setIdGenerator(new InMemoryIDGenerator());
        context.setExecutorService(executor);
        context.setLowerLayerProtocol(llp);
        this.parser = context.getPipeParser();
    }

    /**
     * Sends {@code er7} to {@code host:port} and waits for its ACK.
     *
     * @param er7 one HL7 v2 message in ER7; segments may be separated by {@code \r}, {@code \n} or
     *            {@code \r\n}; MSH-10 must be set (it is how the ACK is matched)
     * @throws IllegalArgumentException if {@code er7} is not a parsable HL7 message or has no MSH-10
     *                                  (never worth retrying)
     * @throws IllegalStateException    after {@link #close()}
     */
    public Result send(String host, int port, String er7) {
        checkOpenAndTarget(host, port);
        return send(host, port, parseOutgoing(er7));
    }

    /**
     * Sends an already built message (e.g. from the FHIR mapping) without encoding and re-parsing
     * it first; it is encoded once, on the wire.
     *
     * @throws IllegalArgumentException if the message has no MSH-10
     */
    public Result send(String host, int port, Message message) {
        checkOpenAndTarget(host, port);
        try {
            String controlId = new Terser(message).get("/MSH-10");
            if (controlId == null || controlId.isBlank()) {
                throw new IllegalArgumentException("message has no MSH-10 (message control id)");
            }
        } catch (HL7Exception e) {
            throw new IllegalArgumentException("message has no readable MSH-10");
        }

        List<InetSocketAddress> targets;
        try {
            targets = egress == null ? List.of(new InetSocketAddress(InetAddress.getByName(host), port)) : egress.resolve(host, port);
        } catch (EgressPolicy.EgressRefusedException e) {
            return new Result(Outcome.REFUSED, null, e.getMessage());
        } catch (UnknownHostException e) {
            return retry("unknown host " + host);
        }
        Socket socket = null;
        for (int i = 0; socket == null; i++) {
            InetSocketAddress target = targets.get(i);
            boolean last = i == targets.size() - 1;
            Socket candidate = new Socket();
            try {
                if (egress != null) {
                    egress.check(host, target); // the address connected to is the one checked: no second lookup
                }
                candidate.connect(target, timeoutMillis(connectTimeout));
                socket = candidate;
            } catch (EgressPolicy.EgressRefusedException e) {
                closeQuietly(candidate);
                return new Result(Outcome.REFUSED, null, e.getMessage());
            } catch (SocketTimeoutException e) {
                closeQuietly(candidate);
                if (last) {
                    return retry("connect timeout after " + connectTimeout.toMillis() + " ms");
                }
            } catch (ConnectException e) {
                closeQuietly(candidate);
                if (last) {
                    return retry("connection refused (" + e.getMessage() + ")");
                }
            } catch (IOException e) {
                closeQuietly(candidate);
                if (last) {
                    return retry("connect failed: " + describe(e));
                }
            }
        }

        ActiveConnection connection;
        try {
            connection = new ActiveConnection(parser, llp, socket, executor);
        } catch (LLPException | IOException e) {
            closeQuietly(socket);
            return retry("could not open MLLP connection: " + describe(e));
        }
        AtomicBoolean watchdogFired = new AtomicBoolean();
        ScheduledFuture<?> guard = watchdog.schedule(() -> {
            watchdogFired.set(true);
            connection.close();
        }, ackTimeout.toMillis() + WATCHDOG_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        try {
            connection.activate();
            connection.getInitiator().setTimeout(ackTimeout.toMillis(), TimeUnit.MILLISECONDS);
            Message ack = connection.getInitiator().sendAndReceive(message);
            return interpret(ack);
        } catch (TimeoutException e) {
            return retry(connection.isOpen() || watchdogFired.get()
                    ? "no ACK within " + ackTimeout.toMillis() + " ms"
                    : "connection closed by peer before ACK (waited " + ackTimeout.toMillis() + " ms)");
        } catch (HL7Exception e) {
            return retry("unparsable ACK (" + e.getClass().getSimpleName() + ")");
        } catch (LLPException | IOException e) {
            return retry(watchdogFired.get()
                    ? "sending did not complete within " + ackTimeout.toMillis() + " ms"
                    : "connection error: " + describe(e));
        } catch (RuntimeException e) {
            return retry("unexpected error: " + e.getClass().getSimpleName());
        } finally {
            guard.cancel(false);
            connection.close();
        }
    }

    /** Stops the receiver and watchdog threads. Sends running at the same time fail with RETRY. */
    @Override
    public void close() {
        watchdog.shutdownNow();
        executor.shutdownNow();
    }

    private void checkOpenAndTarget(String host, int port) {
        if (executor.isShutdown()) {
            throw new IllegalStateException("MllpSender is closed");
        }
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host is required");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("invalid port " + port);
        }
    }

    /** Parses without validation; MSH-10 is checked by {@link #send(String, int, Message)}. */
    private Message parseOutgoing(String er7) {
        if (er7 == null || er7.isBlank()) {
            throw new IllegalArgumentException("empty message");
        }
        // real feeds use \n or \r\n; MLLP wants \r. Trailing separators are dropped by the parser.
        String normalized = er7.strip().replace("\r\n", "\r").replace('\n', '\r');
        try {
            return parser.parse(normalized);
        } catch (HL7Exception e) {
            // the exception's text may quote the message, so it is not passed on
            throw new IllegalArgumentException("message is not a parsable HL7 v2 message ("
                    + e.getClass().getSimpleName() + ", " + e.getError() + ")");
        }
    }

    private static Result interpret(Message ack) {
        Terser terser = new Terser(ack);
        String code;
        try {
            code = trimToNull(terser.get("/MSA-1"));
        } catch (HL7Exception | RuntimeException e) {
            return retry("ACK without MSA segment");
        }
        String text = ackText(ack, terser);
        if (code != null) {
            code = code.toUpperCase(Locale.ROOT);
        }
        if (code != null && ACCEPT_CODES.contains(code)) {
            return new Result(Outcome.ACCEPTED, code, text);
        }
        if (code != null && REJECT_CODES.contains(code)) {
            return new Result(Outcome.REJECTED, code, text);
        }
        return new Result(Outcome.RETRY, null,
                "ACK with unknown MSA-1 " + (code == null ? "(empty)" : "'" + limit(code, 10) + "'")
                        + (text == null ? "" : ": " + text));
    }

    /**
     * MSA-3 and, per ERR segment, ERR-3 (code, text and original text, where HAPI puts the
     * exception message), ERR-8 (user message), ERR-7 (diagnostics), or the v2.3 ERR-1.
     */
    private static String ackText(Message ack, Terser terser) {
        List<String> parts = new ArrayList<>();
        add(parts, get(terser, "/MSA-3"));
        int errors = 0;
        try {
            errors = ack.getAll("ERR").length;
        } catch (HL7Exception | RuntimeException e) {
            // no ERR in this structure
        }
        for (int i = 0; i < Math.min(errors, MAX_ERR_SEGMENTS); i++) {
            String err = "/ERR(" + i + ")";
            String code = joinNonEmpty(" ", get(terser, err + "-3-1"), get(terser, err + "-3-2"));
            List<String> texts = new ArrayList<>();
            add(texts, get(terser, err + "-3-9"));
            add(texts, get(terser, err + "-8"));
            add(texts, get(terser, err + "-7"));
            String text = texts.isEmpty() ? null : String.join(" / ", texts);
            String segmentText = joinNonEmpty(": ", code, text);
            add(parts, segmentText != null ? segmentText
                    : joinNonEmpty(" ", get(terser, err + "-1-4-1"), get(terser, err + "-1-4-2")));
        }
        String text = parts.isEmpty() ? null : String.join("; ", parts);
        return text == null ? null : limit(text, MAX_DETAIL);
    }

    private static String get(Terser terser, String path) {
        try {
            return trimToNull(terser.get(path));
        } catch (HL7Exception | RuntimeException e) {
            return null;
        }
    }

    private static void add(List<String> parts, String part) {
        if (part != null && !parts.contains(part)) {
            parts.add(part);
        }
    }

    private static String joinNonEmpty(String separator, String a, String b) {
        if (a == null) {
            return b;
        }
        return b == null ? a : a + separator + b;
    }

    private static Result retry(String detail) {
        return new Result(Outcome.RETRY, null, detail);
    }

    private static String describe(Exception e) {
        return e.getMessage() == null ? e.getClass().getSimpleName()
                : e.getClass().getSimpleName() + ": " + limit(e.getMessage(), 200);
    }

    private static String trimToNull(String value) {
        if (value == null) {
            return null;
        }
        String trimmed = value.strip();
        return trimmed.isEmpty() ? null : trimmed;
    }

    private static String limit(String value, int max) {
        return value.length() <= max ? value : value.substring(0, max) + "…";
    }

    private static int timeoutMillis(Duration timeout) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing to do
        }
    }

    private static Duration requirePositive(Duration duration, String name) {
        Objects.requireNonNull(duration, name);
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException(name + " must be positive");
        }
        return duration;
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger counter = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
