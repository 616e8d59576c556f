package org.carerelay.fhir.validation.bench;

import ca.uhn.fhir.context.FhirContext;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import org.carerelay.fhir.hl7.AdtToPatient;
import org.carerelay.fhir.hl7.Hl7Inbound;
import org.carerelay.fhir.validation.ResourceValidator;
import org.hl7.fhir.r4.model.Communication;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;

/**
 * JMH sample time (p50, p99, ...) of validation on one thread, after warm-up: {@link #full} and
 * {@link #validate} for the benchmark's text Communication, {@link #adtPatientFull} and
 * {@link #adtPatientValidate} for the Patient mapped from the PID of the gateway benchmark's
 * ADT^A08 (identifiers KVNR and PI), each with HAPI's validator only (what {@code validate} did
 * before the fast path) and as the gateway calls it; {@link #adtA08MapAndValidate} is the whole
 * in-process path of that message: decode, parse, map and validate.
 *
 * <p>Not a test; run it on request (about four minutes):
 * <pre>
 * ./mvnw -B -q -pl fhir-model test-compile exec:exec@bench \
 *     -Dexec.args="-classpath %classpath org.carerelay.fhir.validation.bench.ValidationBenchmark"
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ValidationBenchmark {

    /** The ADT^A08 of the gateway's HL7 benchmark (PipelineThroughputBenchmark), as it arrives in an MLLP frame. */
    private static final byte[] ADT_A08 = ("MSH|^~\\&|PFLEGE_SW|PFLEGE|CARERELAY|CARERELAY|20241204120000||ADT^A08^ADT_A01|42|P|2.5|||||DEU|8859/1\r"
            + "EVN|A08|20241204120000\r"
            + "PID|1||X110411319^^^KVNR^KVNR~BPX110411319^^^PFL^PI||Müßig^Jürgen||19380412|M|||Straße der Einheit 5^^Görlitz^^02826^DEU\r"
            + "PV1|1|O\r").getBytes(StandardCharsets.ISO_8859_1);

    private ResourceValidator validator;
    private Communication message;
    private Patient adtPatient;

    @Setup
    public void setUp() {
        validator = new ResourceValidator(FhirContext.forR4Cached());
        validator.warmUp();
        message = new Communication();
        message.setId("0b8c3a3e-6f55-4b5e-8d1f-6d0d3f2b9a71");
        message.setStatus(Communication.CommunicationStatus.COMPLETED);
        message.setSubject(new Reference("Patient/7f1d2c3b-aaaa-4bbb-8ccc-0123456789ab"));
        message.addRecipient(new Reference("Organization/3d5e7f90-1234-4abc-9def-0123456789ab"));
        message.setSender(new Reference("Organization/9a8b7c6d-1234-4abc-9def-0123456789ab"));
        message.setSent(new Date());
        message.addPayload().setContent(new StringType("Benchmark message"));
        if (!validator.validate(message).isValid() || !validator.validateFully(message).isValid()) {
            throw new IllegalStateException("the benchmark message is not valid");
        }
        adtPatient = adtPatient();
        if (!validator.validate(adtPatient).isValid() || !validator.validateFully(adtPatient).isValid()) {
            throw new IllegalStateException("the benchmark ADT Patient is not valid");
        }
    }

    private static Patient adtPatient() {
        Patient patient = AdtToPatient.map(Hl7Inbound.decodeAndParse(ADT_A08, null).message(),
                AdtToPatient.AssigningAuthorities.defaults());
        patient.setId("7f1d2c3b-aaaa-4bbb-8ccc-0123456789ab");
        return patient;
    }

    @Benchmark
    public ResourceValidator.Result full() {
        return validator.validateFully(message);
    }

    @Benchmark
    public ResourceValidator.Result validate() {
        return validator.validate(message);
    }

    @Benchmark
    public ResourceValidator.Result adtPatientFull() {
        return validator.validateFully(adtPatient);
    }

    @Benchmark
    public ResourceValidator.Result adtPatientValidate() {
        return validator.validate(adtPatient);
    }

    @Benchmark
    public ResourceValidator.Result adtA08MapAndValidate() {
        return validator.validate(adtPatient());
    }

    public static void main(String[] args) throws RunnerException, CommandLineOptionException {
        new Runner(new OptionsBuilder()
                .include(ValidationBenchmark.class.getName())
                .parent(new CommandLineOptions(args))
                .build()).run();
    }
}
