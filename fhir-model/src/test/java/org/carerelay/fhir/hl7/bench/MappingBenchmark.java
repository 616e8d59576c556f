package org.carerelay.fhir.hl7.bench;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.carerelay.fhir.hl7.AdtToPatient;
import org.carerelay.fhir.hl7.Hl7Inbound;
import org.carerelay.fhir.hl7.MdmToCommunication;
import org.carerelay.fhir.hl7.OruToObservations;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * JMH throughput of the inbound HL7v2 path over the third-party sample corpus
 * ({@code src/test/resources/hl7v2/*.hl7}, 18 messages: ADT, MDM, ORU, one ISO-8859-1).
 *
 * <p>One benchmark operation processes the <em>whole corpus</em> once; thanks to
 * {@link OperationsPerInvocation} JMH divides by the corpus size, so every score is in
 * <b>messages per second</b>. The three benchmarks run in the same JVM fork configuration:
 * <ol>
 *   <li>{@link #baselineHapiPipeParser}: HAPI's plain {@link PipeParser} from a default
 *       {@link DefaultHapiContext} with validation off, on the samples with segment separators
 *       already normalised to {@code \r} (no charset detection, no header checks; the default
 *       model class factory finds only the v2.5.1 structures on this class path, so the 2.3 to 2.8
 *       samples become flat {@code GenericMessage}s and only the one v2.5.1 sample a typed one);</li>
 *   <li>{@link #decodeAndParse}: {@link Hl7Inbound#decode} from the raw file bytes, then
 *       {@link Hl7Inbound#parse} (charset choice, normalisation, header checks, canonical v2.5.1
 *       structures, header {@code Terser} reads);</li>
 *   <li>{@link #decodeParseAndMap}: the same, then the FHIR mapping per message type: ADT →
 *       {@link AdtToPatient#map}, MDM → {@link MdmToCommunication#map} +
 *       {@link MdmToCommunication#toCommunication}, ORU → {@link OruToObservations#map}.</li>
 * </ol>
 *
 * <p>Not a test (Surefire only picks up {@code *Test}, {@code *Tests}, {@code *IT}), so
 * {@code ./mvnw verify} never runs it. Run it on request (about one minute):
 * <pre>
 * ./mvnw -B -q -pl fhir-model test-compile exec:exec@bench
 * </pre>
 * The {@code bench} execution of {@code exec:exec} (in {@code fhir-model/pom.xml}) starts
 * {@link #main} in a JVM of its own with the test class path; {@code exec:java} does not work,
 * because JMH's forked VMs take their class path from {@code java.class.path}, which inside Maven
 * is Maven's own. With JMH options (they override the defaults in {@link #main}):
 * <pre>
 * ./mvnw -B -q -pl fhir-model test-compile exec:exec@bench \
 *     -Dexec.args="-classpath %classpath org.carerelay.fhir.hl7.bench.MappingBenchmark -i 10 -prof gc"
 * </pre>
 * Defaults: 1 fork, 3 × 1 s warm-up and 5 × 2 s measurement per benchmark; after JMH's own table
 * every score is printed again as a ratio to the baseline.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
public class MappingBenchmark {

    /** The corpus, in a fixed order; {@link #CORPUS_SIZE} must match (checked in {@link #setUp}). */
    static final List<String> SAMPLES = List.of(
            "ipf_ADT-A01.hl7",
            "ipf_ADT-A08.hl7",
            "ipf_pcd01-ORU-R01-vitals-8859-1.hl7",
            "ipf_pcd01-ORU-R01-vitals.hl7",
            "msft_ADT-A01-01.hl7",
            "msft_ADT-A01-02.hl7",
            "msft_ADT-A04-01.hl7",
            "msft_ADT-A08-01.hl7",
            "msft_ADT-A28-01.hl7",
            "msft_ADT-A31-01.hl7",
            "msft_ADT-A40-01.hl7",
            "msft_ADT04-251.hl7",
            "msft_LAB-ORU-1.hl7",
            "msft_MDM-T01-01.hl7",
            "msft_MDM-T02-01.hl7",
            "msft_MDM-T02-02.hl7",
            "msft_MDM-T02-03.hl7",
            "msft_ORU-R01-01.hl7");

    static final int CORPUS_SIZE = 18;

    private static final AdtToPatient.AssigningAuthorities AUTHORITIES = AdtToPatient.AssigningAuthorities.defaults();

    /** Raw file bytes, as they would arrive in an MLLP frame. */
    private byte[][] frames;

    /** The samples decoded with their real charset, segment separators normalised to {@code \r}. */
    private String[] er7;

    private PipeParser baselineParser;

    @Setup
    public void setUp() throws IOException, HL7Exception {
        if (SAMPLES.size() != CORPUS_SIZE) {
            throw new IllegalStateException("CORPUS_SIZE does not match SAMPLES");
        }
        frames = new byte[CORPUS_SIZE][];
        er7 = new String[CORPUS_SIZE];
        for (int i = 0; i < CORPUS_SIZE; i++) {
            String name = SAMPLES.get(i);
            frames[i] = read(name);
            Charset charset = name.contains("8859-1") ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8;
            er7[i] = normalise(new String(frames[i], charset));
        }

        HapiContext context = new DefaultHapiContext();
        context.setValidationContext(ValidationContextFactory.noValidation());
        context.getParserConfiguration().setValidating(false);
        baselineParser = context.getPipeParser();

        // fail fast (before any measurement) if a path cannot handle the whole corpus
        for (int i = 0; i < CORPUS_SIZE; i++) {
            Objects.requireNonNull(baselineParser.parse(er7[i]), SAMPLES.get(i));
            Hl7Inbound.Parsed parsed = Hl7Inbound.parse(Hl7Inbound.decode(frames[i], null).er7());
            Objects.requireNonNull(map(parsed), SAMPLES.get(i));
        }
    }

    @Benchmark
    @OperationsPerInvocation(CORPUS_SIZE)
    public void baselineHapiPipeParser(Blackhole bh) throws HL7Exception {
        for (String text : er7) {
            bh.consume(baselineParser.parse(text));
        }
    }

    @Benchmark
    @OperationsPerInvocation(CORPUS_SIZE)
    public void decodeAndParse(Blackhole bh) {
        for (byte[] frame : frames) {
            bh.consume(Hl7Inbound.parse(Hl7Inbound.decode(frame, null).er7()));
        }
    }

    @Benchmark
    @OperationsPerInvocation(CORPUS_SIZE)
    public void decodeParseAndMap(Blackhole bh) {
        for (byte[] frame : frames) {
            bh.consume(map(Hl7Inbound.parse(Hl7Inbound.decode(frame, null).er7())));
        }
    }

    /** FHIR mapping by MSH-9-1; the result is returned so that it is consumed. */
    static Object map(Hl7Inbound.Parsed parsed) {
        Message message = parsed.message();
        switch (parsed.messageType()) {
            case "ADT":
                return AdtToPatient.map(message, AUTHORITIES);
            case "MDM":
                return MdmToCommunication.toCommunication(MdmToCommunication.map(message));
            case "ORU":
                return OruToObservations.map(message);
            default:
                throw new IllegalArgumentException("No mapping for " + parsed.messageType());
        }
    }

    private static byte[] read(String name) throws IOException {
        try (InputStream in = MappingBenchmark.class.getResourceAsStream("/hl7v2/" + name)) {
            return Objects.requireNonNull(in, name).readAllBytes();
        }
    }

    /** {@code \r\n} and {@code \n} → {@code \r}, no blank segments, a BOM and trailing blank lines dropped. */
    private static String normalise(String text) {
        String t = text.startsWith("\uFEFF") ? text.substring(1) : text;
        StringBuilder sb = new StringBuilder(t.length() + 1);
        for (String segment : t.replace("\r\n", "\r").replace('\n', '\r').split("\r")) {
            if (!segment.isBlank()) {
                sb.append(segment).append('\r');
            }
        }
        return sb.toString();
    }

    /**
     * Runs the three benchmarks and prints each score as a ratio to the baseline. JMH command-line
     * options in {@code args} (e.g. {@code -i 10 -r 5s}, {@code -prof gc}, a benchmark regex) take
     * precedence over the defaults set here.
     */
    public static void main(String[] args) throws RunnerException, CommandLineOptionException {
        if (!System.getProperty("java.class.path", "").contains("jmh-core")) {
            // e.g. started by exec:java: the forked VMs would not find JMH (ForkedMain)
            throw new IllegalStateException("JMH is not on java.class.path, so JMH's forked VMs could not"
                    + " start; run with `./mvnw -pl fhir-model test-compile exec:exec@bench` or"
                    + " `java -cp <test class path> " + MappingBenchmark.class.getName() + "`.");
        }
        CommandLineOptions cli = new CommandLineOptions(args);
        ChainedOptionsBuilder options = new OptionsBuilder().parent(cli);
        if (cli.getIncludes().isEmpty()) {
            options.include(Pattern.quote(MappingBenchmark.class.getName()) + "\\.");
        }
        if (!cli.getForkCount().hasValue()) {
            options.forks(1);
        }
        if (!cli.getWarmupIterations().hasValue()) {
            options.warmupIterations(3);
        }
        if (!cli.getWarmupTime().hasValue()) {
            options.warmupTime(TimeValue.seconds(1));
        }
        if (!cli.getMeasurementIterations().hasValue()) {
            options.measurementIterations(5);
        }
        if (!cli.getMeasurementTime().hasValue()) {
            options.measurementTime(TimeValue.seconds(2));
        }
        printRatios(new Runner(options.build()).run());
    }

    private static void printRatios(Collection<RunResult> results) {
        Result<?> baseline = results.stream()
                .filter(r -> r.getParams().getBenchmark().endsWith(".baselineHapiPipeParser"))
                .map(RunResult::getPrimaryResult)
                .findFirst().orElse(null);
        if (baseline == null) {
            return;
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "%-24s %14s %12s %11s%n", "Benchmark", "messages/s", "± error", "× baseline");
        for (RunResult r : results) {
            Result<?> s = r.getPrimaryResult();
            String name = r.getParams().getBenchmark();
            System.out.printf(Locale.ROOT, "%-24s %14.1f %12.1f %11.3f%n", name.substring(name.lastIndexOf('.') + 1),
                    s.getScore(), s.getScoreError(), s.getScore() / baseline.getScore());
        }
        System.out.printf(Locale.ROOT, "(one operation = the whole corpus of %d messages; scores are per message)%n",
                CORPUS_SIZE);
    }
}
