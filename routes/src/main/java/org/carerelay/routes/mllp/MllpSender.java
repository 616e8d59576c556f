package org.carerelay.routes.mllp;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.llp.LLPException;
import ca.uhn.hl7v2.llp.LowerLayerProtocol;
import ca.uhn.hl7v2.llp.MinLowerLayerProtocol;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.parser.CanonicalModelClassFactory;
import ca.uhn.hl7v2.parser.Parser;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.util.idgenerator.InMemoryIDGenerator;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.carerelay.routes.egress.EgressPolicy;

/**
 * Sends one ER7 message over MLLP and interprets the HL7 acknowledgement (original mode).
 *
 * <p>Connections are kept open and reused, per recipient ({@code host:port}): at most
 * {@link Pool#maxConnections()} per recipient, each used by one send at a time; a send that finds
 * them all busy waits for one (at most the ACK timeout, then {@link Outcome#RETRY}).
 * A connection idle for {@link Pool#idleTimeout()} is closed. Before a kept connection is used again
 * it is checked without blocking: if the recipient closed it (end of stream, reset) or sent something
 * unasked, it is closed and another one (or a new one) is taken, before anything was written to it.
 * A connection on which anything went wrong (no ACK, ACK for another message, broken frame, I/O
 * error) is closed, never reused, so a late ACK can never be taken for the next message's.
 *
 * <p>A new socket is connected by this class with {@code connectTimeout} (an unreachable host would
 * otherwise block for minutes). A send writes one frame and reads one frame back, waiting at most
 * {@code ackTimeout} per read; a watchdog closes the connection shortly after {@code ackTimeout} in
 * case writing itself blocks (peer not reading) or the ACK trickles in.
 *
 * <p>The message is parsed without validation (model 2.5.1, {@link CanonicalModelClassFactory}) and
 * re-encoded by HAPI before sending, so it goes out normalised (e.g. {@code \r} segment separators).
 * Bytes are written in the character set named in MSH-18, UTF-8 if MSH-18 is empty; the ACK is read
 * in the character set its MSH-18 names. The ACK must answer this message (MSA-2 = MSH-10).
 *
 * <p>Outcomes: {@code AA}/{@code CA} are {@link Outcome#ACCEPTED}; {@code AE}/{@code AR}/{@code CE}/
 * {@code CR} are {@link Outcome#REJECTED} (permanent, do not resend unchanged); everything else
 * (connect failure, timeout, reset, unparsable ACK, ACK for another message or unknown MSA-1) is
 * {@link Outcome#RETRY}: a message written to a connection that then broke is never sent again
 * within the same send, since the recipient may have stored it; the caller retries later (and the
 * recipient can recognise the repeat by its MSH-10). {@link Result#detail()} never contains content
 * of the sent message.
 *
 * <p>Thread-safe. No Spring, no JDBC. {@link #close()} closes the kept connections and stops the
 * internal threads.
 *
 * <p>Why not camel-mllp's producer (which the listeners use): after a failed ACK read it
 * reconnects and sends the message again within the same exchange, so a partner that closed the
 * connection after storing the message would get it twice in what the pipeline records as one
 * attempt; and it writes without any bound, holding the lock of its endpoint, so a partner that stops
 * reading would block that delivery thread and every later delivery to the partner. Here a send is
 * one write and one ACK wait on one connection, ended by the watchdog at the latest.
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

    /**
     * Kept connections: at most {@code maxConnections} per recipient ({@code host:port}), each
     * closed after {@code idleTimeout} without a send.
     */
    public record Pool(int maxConnections, Duration idleTimeout) {
        public static final Pool DEFAULT = new Pool(4, Duration.ofSeconds(60));

        public Pool {
            if (maxConnections < 1) {
                throw new IllegalArgumentException("maxConnections must be at least 1");
            }
            requirePositive(idleTimeout, "idleTimeout");
        }
    }

    private static final Set<String> ACCEPT_CODES = Set.of("AA", "CA");
    private static final Set<String> REJECT_CODES = Set.of("AE", "AR", "CE", "CR");
    private static final int MAX_DETAIL = 500;
    private static final int MAX_ERR_SEGMENTS = 5;
    /** An ACK is short; a longer answer is not read to its end. */
    private static final int MAX_ACK_BYTES = 1 << 20;
    private static final int START_BLOCK = 0x0b;
    private static final int END_BLOCK = 0x1c;
    private static final int CARRIAGE_RETURN = 0x0d;
    /** Extra time before the watchdog closes a connection whose ACK wait did not end by itself. */
    private static final long WATCHDOG_GRACE_MILLIS = 500;

    private final Duration connectTimeout;
    private final Duration ackTimeout;
    private final Pool pool;
    private final HapiContext context;
    private final Parser parser;
    private final LowerLayerProtocol llp;
    private final ScheduledExecutorService watchdog;
    /** Where connections may go; null: anywhere (only for callers that choose the host themselves). */
    private final EgressPolicy egress;
    /** Per {@code host:port}; guarded by itself. */
    private final Map<String, Recipient> recipients = new HashMap<>();
    private final AtomicLong connectionsOpened = new AtomicLong();
    private volatile boolean closed;

    public MllpSender(Duration connectTimeout, Duration ackTimeout) {
        this(connectTimeout, ackTimeout, null);
    }

    /**
     * @param egress checked after resolving the host (every address) and again right before
     *               connecting to the checked address; a refused destination is {@link Outcome#REFUSED}
     */
    public MllpSender(Duration connectTimeout, Duration ackTimeout, EgressPolicy egress) {
        this(connectTimeout, ackTimeout, egress, Pool.DEFAULT);
    }

    /**
     * @param egress checked after resolving the host (every address), right before connecting to the
     *               checked address and before a kept connection is used again
     */
    public MllpSender(Duration connectTimeout, Duration ackTimeout, EgressPolicy egress, Pool pool) {
        this.egress = egress;
        this.connectTimeout = requirePositive(connectTimeout, "connectTimeout");
        this.ackTimeout = requirePositive(ackTimeout, "ackTimeout");
        this.pool = Objects.requireNonNull(pool, "pool");
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
        context.setLowerLayerProtocol(llp);
        this.parser = context.getPipeParser();

        long sweep = Math.max(100, Math.min(pool.idleTimeout().toMillis() / 4, 10_000));
        watchdog.scheduleWithFixedDelay(this::closeIdleAndBroken, sweep, sweep, TimeUnit.MILLISECONDS);
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
        String controlId;
        String encoded;
        try {
            controlId = new Terser(message).get("/MSH-10");
            if (controlId == null || controlId.isBlank()) {
                throw new IllegalArgumentException("message has no MSH-10 (message control id)");
            }
            encoded = parser.encode(message);
        } catch (HL7Exception e) {
            throw new IllegalArgumentException("message has no readable MSH-10");
        }

        Recipient recipient;
        // a busy connection is free again within the ACK timeout (plus the watchdog's grace) unless
        // it is still connecting; waiting longer could outlast the caller's lease on the delivery
        long waitUntil = System.nanoTime() + ackTimeout.toNanos();
        Connection connection;
        while (true) {
            Connection kept;
            recipient = recipient(host, port);
            try {
                kept = recipient.acquire(waitUntil);
            } catch (RecipientRetiredException e) {
                continue; // forgotten by the sweeper just now: look it up again
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return retry("interrupted while waiting for a connection");
            } catch (AllBusyException e) {
                return retry("all " + pool.maxConnections() + " connections to the recipient stayed busy");
            }
            if (kept == null) {
                Object opened = open(host, port);
                if (opened instanceof Result failure) {
                    recipient.release(null);
                    return failure;
                }
                connection = (Connection) opened;
                break;
            }
            if (!kept.usable()) {
                // closed by the recipient while idle (or it sent something unasked): nothing was written to it
                recipient.release(kept);
                continue;
            }
            if (egress != null) {
                try {
                    egress.check(host, kept.target);
                } catch (EgressPolicy.EgressRefusedException e) {
                    recipient.release(kept);
                    return new Result(Outcome.REFUSED, null, e.getMessage());
                }
            }
            connection = kept;
            break;
        }

        Exchanged exchanged = exchange(connection, encoded, controlId);
        if (exchanged.reusable() && !closed) {
            recipient.keep(connection);
        } else {
            recipient.release(connection);
        }
        return exchanged.result();
    }

    /** Connections opened since start (for tests and metrics). */
    public long connectionsOpened() {
        return connectionsOpened.get();
    }

    /** Closes the kept connections and stops the watchdog. Sends running at the same time fail with RETRY. */
    @Override
    public void close() {
        closed = true;
        watchdog.shutdownNow();
        List<Recipient> all;
        synchronized (recipients) {
            all = new ArrayList<>(recipients.values());
        }
        for (Recipient recipient : all) {
            recipient.closeAll();
        }
    }

    private Recipient recipient(String host, int port) {
        String key = host.toLowerCase(Locale.ROOT) + ":" + port;
        synchronized (recipients) {
            return recipients.computeIfAbsent(key, k -> new Recipient(pool.maxConnections()));
        }
    }

    /** Closes connections idle too long or closed by the recipient, and forgets recipients without any. */
    private void closeIdleAndBroken() {
        long idleBefore = System.nanoTime() - pool.idleTimeout().toNanos();
        List<Recipient> all;
        synchronized (recipients) {
            all = new ArrayList<>(recipients.values());
        }
        for (Recipient recipient : all) {
            recipient.closeIdle(idleBefore);
        }
        synchronized (recipients) {
            recipients.values().removeIf(Recipient::retireIfUnused);
        }
    }

    /** A new connection, or the {@link Result} why there is none. */
    private Object open(String host, int port) {
        List<InetSocketAddress> targets;
        try {
            targets = egress == null ? List.of(new InetSocketAddress(InetAddress.getByName(host), port)) : egress.resolve(host, port);
        } catch (EgressPolicy.EgressRefusedException e) {
            return new Result(Outcome.REFUSED, null, e.getMessage());
        } catch (UnknownHostException e) {
            return retry("unknown host " + host);
        }
        for (int i = 0; ; i++) {
            InetSocketAddress target = targets.get(i);
            boolean last = i == targets.size() - 1;
            SocketChannel candidate = null;
            try {
                if (egress != null) {
                    egress.check(host, target); // the address connected to is the one checked: no second lookup
                }
                candidate = SocketChannel.open();
                candidate.socket().connect(target, timeoutMillis(connectTimeout));
                candidate.socket().setTcpNoDelay(true);
                candidate.socket().setKeepAlive(true);
                connectionsOpened.incrementAndGet();
                return new Connection(candidate, target);
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
    }

    private record Exchanged(Result result, boolean reusable) {
    }

    /** One frame out, one frame back; the connection is reusable only after a complete ACK to this message. */
    private Exchanged exchange(Connection connection, String encoded, String controlId) {
        AtomicBoolean watchdogFired = new AtomicBoolean();
        ScheduledFuture<?> guard;
        try {
            guard = watchdog.schedule(() -> {
                watchdogFired.set(true);
                closeQuietly(connection.channel);
            }, ackTimeout.toMillis() + WATCHDOG_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            return new Exchanged(retry("sender closed"), false);
        }
        boolean written = false;
        try {
            connection.channel.socket().setSoTimeout(timeoutMillis(ackTimeout));
            llp.getWriter(connection.out).writeMessage(encoded);
            connection.out.flush();
            written = true;
            byte[] frame = readFrame(connection.in);
            if (frame == null) {
                return new Exchanged(retry(watchdogFired.get()
                        ? "no ACK within " + ackTimeout.toMillis() + " ms"
                        : "connection closed by peer before ACK (waited up to " + ackTimeout.toMillis() + " ms)"), false);
            }
            String ackText = llp.getReader(new ByteArrayInputStream(frame)).getMessage();
            if (ackText == null) {
                return new Exchanged(retry("unreadable ACK frame"), false);
            }
            Message ack = parser.parse(ackText);
            String answered = get(new Terser(ack), "/MSA-2");
            if (!controlId.equals(answered)) {
                return new Exchanged(retry("ACK for another message (MSA-2 "
                        + (answered == null ? "empty" : "'" + limit(answered, 20) + "'") + ")"), false);
            }
            return new Exchanged(interpret(ack), !watchdogFired.get());
        } catch (SocketTimeoutException e) {
            return new Exchanged(retry("no ACK within " + ackTimeout.toMillis() + " ms"), false);
        } catch (FrameTooLongException e) {
            return new Exchanged(retry("answer longer than " + MAX_ACK_BYTES + " bytes"), false);
        } catch (HL7Exception e) {
            return new Exchanged(retry("unparsable ACK (" + e.getClass().getSimpleName() + ")"), false);
        } catch (LLPException | IOException e) {
            if (watchdogFired.get()) {
                return new Exchanged(retry(written ? "no ACK within " + ackTimeout.toMillis() + " ms"
                        : "sending did not complete within " + ackTimeout.toMillis() + " ms"), false);
            }
            return new Exchanged(retry("connection error: " + describe(e)), false);
        } catch (RuntimeException e) {
            return new Exchanged(retry("unexpected error: " + e.getClass().getSimpleName()), false);
        } finally {
            guard.cancel(false);
        }
    }

    private static final class AllBusyException extends Exception {
        AllBusyException() {
            super(null, null, false, false);
        }
    }

    private static final class RecipientRetiredException extends Exception {
        RecipientRetiredException() {
            super(null, null, false, false);
        }
    }

    private static final class FrameTooLongException extends IOException {
        FrameTooLongException() {
            super("frame too long");
        }
    }

    /**
     * One MLLP frame (start block, content, end block, carriage return) as read; {@code null} if the
     * stream ends before the frame is complete. Line breaks before the start block are skipped.
     */
    private static byte[] readFrame(InputStream in) throws IOException {
        int b = in.read();
        while (b == '\r' || b == '\n') {
            b = in.read();
        }
        if (b < 0) {
            return null;
        }
        if (b != START_BLOCK) {
            throw new IOException("answer is not an MLLP frame");
        }
        ByteArrayOutputStream frame = new ByteArrayOutputStream(256);
        frame.write(b);
        int previous = -1;
        while ((b = in.read()) >= 0) {
            frame.write(b);
            if (previous == END_BLOCK && b == CARRIAGE_RETURN) {
                return frame.toByteArray();
            }
            if (frame.size() > MAX_ACK_BYTES) {
                throw new FrameTooLongException();
            }
            previous = b;
        }
        return null;
    }

    /** One kept-alive connection; used by one send at a time. */
    private static final class Connection {
        final SocketChannel channel;
        final InetSocketAddress target;
        final InputStream in;
        final OutputStream out;
        final ByteBuffer probe = ByteBuffer.allocate(1);
        long idleSince;

        Connection(SocketChannel channel, InetSocketAddress target) throws IOException {
            this.channel = channel;
            this.target = target;
            this.in = new BufferedInputStream(channel.socket().getInputStream(), 8192);
            this.out = new BufferedOutputStream(channel.socket().getOutputStream(), 8192);
        }

        /**
         * Without blocking: still open, the recipient has not closed or reset it, and nothing
         * unasked is waiting to be read. Only called on an idle connection.
         */
        boolean usable() {
            if (!channel.isOpen()) {
                return false;
            }
            try {
                if (in.available() > 0) {
                    return false;
                }
                probe.clear();
                channel.configureBlocking(false);
                int read;
                try {
                    read = channel.read(probe);
                } finally {
                    channel.configureBlocking(true);
                }
                return read == 0;
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }

        void close() {
            closeQuietly(channel);
        }
    }

    /** The connections to one {@code host:port}: idle ones kept, the number open bounded. */
    private static final class Recipient {
        private final int max;
        private final Deque<Connection> idle = new ArrayDeque<>();
        private int open;
        private boolean retired;

        Recipient(int max) {
            this.max = max;
        }

        /**
         * An idle connection (to be checked by the caller), or {@code null}: none idle, a slot for a
         * new one is taken.
         *
         * @throws AllBusyException if none became free before the deadline
         */
        synchronized Connection acquire(long deadlineNanos)
                throws InterruptedException, AllBusyException, RecipientRetiredException {
            while (true) {
                if (retired) {
                    throw new RecipientRetiredException();
                }
                Connection kept = idle.pollLast(); // the most recently used: the others may idle out
                if (kept != null) {
                    return kept;
                }
                if (open < max) {
                    open++;
                    return null;
                }
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    throw new AllBusyException();
                }
                TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }

        synchronized void keep(Connection connection) {
            connection.idleSince = System.nanoTime();
            idle.addLast(connection);
            notifyAll();
        }

        /** Closes {@code connection} (if any) and frees its slot. */
        synchronized void release(Connection connection) {
            if (connection != null) {
                connection.close();
            }
            open--;
            notifyAll();
        }

        synchronized void closeIdle(long idleBeforeNanos) {
            for (Iterator<Connection> it = idle.iterator(); it.hasNext(); ) {
                Connection connection = it.next();
                if (connection.idleSince - idleBeforeNanos <= 0 || !connection.usable()) {
                    it.remove();
                    connection.close();
                    open--;
                }
            }
            notifyAll();
        }

        synchronized void closeAll() {
            for (Connection connection : idle) {
                connection.close();
                open--;
            }
            idle.clear();
            notifyAll();
        }

        /** No connection open or being opened: it is forgotten, and a send that still holds it looks it up again. */
        synchronized boolean retireIfUnused() {
            retired = open == 0;
            return retired;
        }
    }

    private void checkOpenAndTarget(String host, int port) {
        if (closed) {
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

    private static void closeQuietly(SocketChannel channel) {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
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
