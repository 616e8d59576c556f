package org.carerelay.fhir.hl7;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.parser.CanonicalModelClassFactory;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.util.Objects;

/**
 * Test messages for the mapper tests of this package: the sample files in
 * {@code src/test/resources/hl7v2}, and ER7 text parsed by HAPI's plain {@link PipeParser} into the
 * v2.5.1 structures with validation off (not through {@link Hl7Inbound}, so that the mappers are
 * tested on what HAPI itself makes of a message).
 */
final class V2TestMessages {

    private static final PipeParser PARSER = new PipeParser(new CanonicalModelClassFactory(Hl7Inbound.CANONICAL_VERSION));

    static {
        PARSER.setValidationContext(ValidationContextFactory.noValidation());
    }

    private V2TestMessages() {
    }

    /** The raw bytes of the sample file {@code name}. */
    static byte[] sampleBytes(String name) {
        try (InputStream in = V2TestMessages.class.getResourceAsStream("/hl7v2/" + name)) {
            return Objects.requireNonNull(in, name).readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The sample file {@code name}, decoded with {@code charset} and {@linkplain #parse parsed}. */
    static Message sample(String name, Charset charset) throws HL7Exception {
        return parse(new String(sampleBytes(name), charset));
    }

    /** {@code er7} parsed, with {@code \r\n} and {@code \n} taken as segment separators too. */
    static Message parse(String er7) throws HL7Exception {
        return PARSER.parse(er7.replace("\r\n", "\r").replace('\n', '\r'));
    }
}
