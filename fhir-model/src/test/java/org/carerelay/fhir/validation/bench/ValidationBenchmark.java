package org.carerelay.fhir.validation.bench;

import ca.uhn.fhir.context.FhirContext;
import java.util.Date;
import java.util.concurrent.TimeUnit;
import org.carerelay.fhir.validation.ResourceValidator;
import org.hl7.fhir.r4.model.Communication;
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
 * JMH sample time (p50, p99, ...) of validating the benchmark's text Communication on one thread,
 * after warm-up: {@link #full} with HAPI's validator only (what {@code validate} did before the
 * fast path), {@link #validate} as the gateway calls it (the fast path proves it valid).
 *
 * <p>Not a test; run it on request (about one and a half minutes):
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

    private ResourceValidator validator;
    private Communication message;

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
    }

    @Benchmark
    public ResourceValidator.Result full() {
        return validator.validateFully(message);
    }

    @Benchmark
    public ResourceValidator.Result validate() {
        return validator.validate(message);
    }

    public static void main(String[] args) throws RunnerException, CommandLineOptionException {
        new Runner(new OptionsBuilder()
                .include(ValidationBenchmark.class.getName())
                .parent(new CommandLineOptions(args))
                .build()).run();
    }
}
