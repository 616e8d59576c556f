package org.carerelay.gateway.hl7;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.primitive.CommonTS;
import ca.uhn.hl7v2.parser.GenericModelClassFactory;
import ca.uhn.hl7v2.parser.ParserConfiguration;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.util.idgenerator.IDGenerator;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.GregorianCalendar;
import java.util.Random;
import java.util.TimeZone;
import java.util.concurrent.Callable;
import org.carerelay.fhir.hl7.Hl7Inbound;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The ACK built here is the one HAPI's {@code generateACK} builds, but for MSH-7's cost. Only the
 * v2.5.1 structures are on the class path: with {@link Hl7Inbound}'s factory every version is read
 * into them (an ACK of v2.5.1), with HAPI's default and generic factories the other versions are
 * generic messages (a generic ACK with MSA and ERR added), so both ways of making the ACK are compared.
 */
class Hl7AcksTest {

    @ParameterizedTest(name = "{0} in {1}")
    @CsvSource({
        "2.5.1, ADT^A08^ADT_A01, AA",
        "2.3, ADT^A08, AE",
        "2.4, MDM^T02^MDM_T02, AR",
        "2.6, ORU^R01^ORU_R01, CA",
        "2.8.1, ADT^A08^ADT_A01, CE",
        "2.2, ADT^A08, CR",
    })
    void sameAck_asHapisGenerateAck_butForTimeAndControlId(String version, String type, AcknowledgmentCode code) throws Exception {
        String er7 = "MSH|^~\\&|KIS|Klinikum Nord^1.2.276.0.76.3.1.1^ISO|CareRelay|Pflegeheim Sonnenhof|20261207101500||" + type
                + "|MSG-0815|P^T|" + version + "|||AL|NE||8859/1\rEVN|A08|20261207101500\rPID|1||4711^^^KIS^PI||Muster^Erika\r";
        for (Message message : new Message[] {Hl7Inbound.parse(er7).message(), hapi().parse(er7), generic().parse(er7)}) {
            Message ours = Hl7Acks.generateAck(message, code);
            Message theirs = withControlIds(message, () -> message.generateACK(code, null));

            assertThat(new Terser(ours).get("/MSH-10")).hasSize(20);
            assertSameTime(new Terser(ours).get("/MSH-7"), new Terser(theirs).get("/MSH-7"));
            assertThat(ours.getClass()).isEqualTo(theirs.getClass());
            assertThat(blankTimeAndControlId(ours)).isEqualTo(blankTimeAndControlId(theirs));
        }
    }

    @Test
    void errorAck_hasTheErrOfHapisGenerateAck() throws Exception {
        Message message = Hl7Inbound.parse("MSH|^~\\&|KIS|Nord|CareRelay|Heim|20261207101500||ADT^A08^ADT_A01|MSG-1|P|2.5.1\r"
                + "PID|1||4711^^^KIS^PI||Muster^Erika\r").message();
        Message ours = Hl7Acks.generateAck(message, AcknowledgmentCode.AE);
        new HL7Exception("Unknown recipient").populateResponse(ours, AcknowledgmentCode.AE, 0);
        Message theirs = withControlIds(message, () -> message.generateACK(AcknowledgmentCode.AE, new HL7Exception("Unknown recipient")));

        assertThat(blankTimeAndControlId(ours)).isEqualTo(blankTimeAndControlId(theirs)).contains("\rERR|");
    }

    @Test
    void everyMillisecond_isWrittenAsHapiWritesIt() throws Exception {
        for (int millis = 0; millis < 1000; millis++) {
            GregorianCalendar calendar = new GregorianCalendar(TimeZone.getTimeZone("Europe/Berlin"));
            calendar.setTimeInMillis(1_780_000_000_000L + millis);

            assertThat(Hl7Acks.hl7Timestamp(ZonedDateTime.ofInstant(calendar.toInstant(), ZoneId.of("Europe/Berlin"))))
                    .isEqualTo(CommonTS.toHl7TSFormat(calendar));
        }
    }

    @Test
    void timestamp_isWrittenAsHapiWritesIt() throws Exception {
        Random random = new Random(7);
        for (String zone : new String[] {"UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham"}) {
            for (int i = 0; i < 2_000; i++) {
                long millis = 1_500_000_000_000L + (random.nextLong() & 0xFFFF_FFFFFL);
                millis -= switch (i % 4) { // whole seconds, and milliseconds that end in zeros
                    case 0 -> millis % 1000;
                    case 1 -> millis % 100;
                    case 2 -> millis % 10;
                    default -> 0;
                };
                GregorianCalendar calendar = new GregorianCalendar(TimeZone.getTimeZone(zone));
                calendar.setTimeInMillis(millis);
                String expected = CommonTS.toHl7TSFormat(calendar);

                assertThat(Hl7Acks.hl7Timestamp(ZonedDateTime.ofInstant(Instant.ofEpochMilli(millis), ZoneId.of(zone))))
                        .as("%s in %s", Instant.ofEpochMilli(millis), zone).isEqualTo(expected);
            }
        }
    }

    /** Both MSH-7 name the same moment (within the seconds between the two calls) in the same zone offset. */
    private static void assertSameTime(String ours, String theirs) throws Exception {
        assertThat(ours).matches("\\d{14}(\\.\\d{1,3})?[+-]\\d{4}");
        assertThat(ours.substring(ours.length() - 5)).as("offset").isEqualTo(theirs.substring(theirs.length() - 5));
        CommonTS a = new CommonTS(ours);
        CommonTS b = new CommonTS(theirs);
        assertThat(Math.abs(a.getValueAsDate().getTime() - b.getValueAsDate().getTime())).isLessThan(5_000L);
    }

    /** HAPI's generateACK with our MSH-10 generator instead of its file-based one, the parser's own restored after. */
    private static Message withControlIds(Message message, Callable<Message> generate) throws Exception {
        ParserConfiguration configuration = message.getParser().getParserConfiguration();
        IDGenerator before = configuration.getIdGenerator();
        configuration.setIdGenerator(new ControlIds());
        try {
            return generate.call();
        } finally {
            configuration.setIdGenerator(before);
        }
    }

    /** The encoded ACK with MSH-7 and MSH-10 emptied (changes {@code ack}). */
    private static String blankTimeAndControlId(Message ack) throws HL7Exception {
        Terser terser = new Terser(ack);
        terser.set("/MSH-7", "");
        terser.set("/MSH-10", "");
        return ack.encode();
    }

    private static PipeParser hapi() {
        return new DefaultHapiContext().getPipeParser();
    }

    private static PipeParser generic() {
        DefaultHapiContext context = new DefaultHapiContext();
        context.setModelClassFactory(new GenericModelClassFactory());
        return context.getPipeParser();
    }
}
