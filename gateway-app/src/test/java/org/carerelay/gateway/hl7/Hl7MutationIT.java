package org.carerelay.gateway.hl7;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.carerelay.gateway.Conversations;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Mllp;
import org.carerelay.gateway.Participants;
import org.junit.jupiter.api.Test;

/**
 * Mutation fuzzing of the MLLP listener: the third-party samples, addressed from a registered
 * sender, are mutated (byte flips, truncation, dropped and doubled segments, stray delimiters,
 * other separators, random MSH-18 and version values, huge fields, non-UTF-8 bytes, empty frames,
 * frames without MSH, stray MLLP start bytes). Every input must get an ACK or a closed connection
 * within the bound — never a hang — and the listener must still accept a valid message afterwards.
 * Seeded, so a failure names its case and can be replayed.
 */
class Hl7MutationIT extends GatewayIntegrationTest {

    static final long SEED = Long.getLong("fuzz.seed", 20261128L);
    static final int CASES = Integer.getInteger("fuzz.cases", 250);
    static final Set<String> ACK_CODES = Set.of("AA", "AE", "AR", "CA", "CE", "CR");

    @Test
    void mutatedSamples_alwaysGetAnAckOrACleanClose() throws Exception {
        Participants.Registered sender = Participants.registerNew(this, "Pflegedienst Fuzz");
        String alias = "FUZZ" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
        Participants.addHl7Alias(admin(), sender.organizationId(), alias);

        List<byte[]> samples = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("src", "test", "resources", "hl7v2"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".hl7")).sorted().toList()) {
                String text = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1)
                        .replace("\r\n", "\r").replace("\n", "\r");
                String[] segments = text.split("\r");
                String[] msh = segments[0].split("\\|", -1);
                msh[3] = alias;
                segments[0] = String.join("|", msh);
                samples.add((String.join("\r", segments) + "\r").getBytes(StandardCharsets.ISO_8859_1));
            }
        }
        Random random = new Random(SEED);
        long started = System.nanoTime();
        int acks = 0;
        int closes = 0;
        int silent = 0;
        for (int i = 0; i < CASES; i++) {
            byte[] sample = samples.get(random.nextInt(samples.size()));
            String kind = KINDS[random.nextInt(KINDS.length)];
            byte[] payload = mutate(kind, sample, random);
            String where = "case " + i + " (" + kind + ", " + payload.length + " bytes, seed " + SEED + ")";
            boolean silenceAskedFor = asksForNoAcknowledgement(payload);
            try {
                String ack = Mllp.exchange(HL7_PORT, payload, StandardCharsets.ISO_8859_1, silenceAskedFor ? 5_000 : 30_000);
                if (ack == null) {
                    closes++;
                } else {
                    acks++;
                    assertThat(Mllp.field(ack, "MSA", 1)).as(where + ": " + ack).isIn(ACK_CODES);
                    String controlId = controlIdOf(payload);
                    if (controlId != null && controlId.matches("[A-Za-z0-9._-]{1,20}")) {
                        assertThat(Mllp.field(ack, "MSA", 2)).as(where).isEqualTo(controlId);
                    }
                }
            } catch (SocketTimeoutException e) {
                if (silenceAskedFor) {
                    silent++; // MSH-15 and MSH-16 NE: no acknowledgement is the right answer
                    continue;
                }
                fail(where + ": no ACK and no close within 30 s");
            } catch (IOException e) {
                closes++; // reset: a clean refusal
            }
        }
        System.out.printf("Hl7MutationIT: seed %d, %d cases, %d ACKs, %d closes, %d silent (NE/NE), %d ms%n",
                SEED, CASES, acks, closes, silent, (System.nanoTime() - started) / 1_000_000);

        String valid = "MSH|^~\\&|PFLEGE_SW|" + alias + "|CARERELAY|CARERELAY|20261128120000||ADT^A08^ADT_A01|OK"
                + UUID.randomUUID().toString().substring(0, 8) + "|P|2.5\rEVN|A08|20261128120000\r"
                + "PID|1||" + Conversations.kvnr() + "^^^KVNR^KVNR||Nachher^Test||19500101|F\rPV1|1|O\r";
        String ack = Mllp.exchange(HL7_PORT, valid.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.ISO_8859_1, 30_000);
        assertThat(Mllp.field(ack, "MSA", 1)).isEqualTo("AA");
    }

    static final String[] KINDS = {"flip", "truncate", "drop-segment", "double-segment", "delimiters", "separators",
        "msh18", "version", "huge-field", "latin1-garbage", "empty", "no-msh", "start-byte", "none"};

    static byte[] mutate(String kind, byte[] sample, Random random) {
        String text = new String(sample, StandardCharsets.ISO_8859_1);
        switch (kind) {
            case "flip" -> {
                byte[] out = sample.clone();
                for (int n = 1 + random.nextInt(8); n > 0; n--) {
                    out[random.nextInt(out.length)] ^= (byte) (1 << random.nextInt(8));
                }
                return out;
            }
            case "truncate" -> {
                return Arrays.copyOf(sample, random.nextInt(sample.length));
            }
            case "drop-segment", "double-segment" -> {
                List<String> segments = new ArrayList<>(Arrays.asList(text.split("\r")));
                int index = random.nextInt(segments.size());
                if (kind.equals("drop-segment")) {
                    segments.remove(index);
                } else {
                    segments.add(index, segments.get(index));
                }
                return (String.join("\r", segments) + "\r").getBytes(StandardCharsets.ISO_8859_1);
            }
            case "delimiters" -> {
                StringBuilder sb = new StringBuilder(text);
                for (int n = 1 + random.nextInt(10); n > 0; n--) {
                    sb.insert(random.nextInt(sb.length()), "|^~\\&".charAt(random.nextInt(5)));
                }
                return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
            }
            case "separators" -> {
                String separator = List.of("\n", "\r\n", "\n\r", "\r\r").get(random.nextInt(4));
                return text.replace("\r", separator).getBytes(StandardCharsets.ISO_8859_1);
            }
            case "msh18", "version" -> {
                String[] segments = text.split("\r");
                String[] msh = segments[0].split("\\|", -1);
                msh = Arrays.copyOf(msh, Math.max(msh.length, 18));
                for (int f = 0; f < msh.length; f++) {
                    msh[f] = msh[f] == null ? "" : msh[f];
                }
                if (kind.equals("msh18")) {
                    msh[17] = List.of("ASCII", "8859/1", "8859/15", "UNICODE UTF-8", "UTF-16", "KLINGON", "", "8859/99")
                            .get(random.nextInt(8));
                } else {
                    msh[11] = List.of("2.1", "2.2", "2.3", "2.5.1", "2.8", "2.9", "3.0", "x", "").get(random.nextInt(9));
                }
                segments[0] = String.join("|", msh);
                return (String.join("\r", segments) + "\r").getBytes(StandardCharsets.ISO_8859_1);
            }
            case "huge-field" -> {
                char[] filler = new char[1 + random.nextInt(1_000_000)];
                Arrays.fill(filler, 'X');
                int at = text.indexOf("\rPID|");
                String huge = at < 0 ? text + "NTE|1||" + new String(filler) + "\r"
                        : text.substring(0, at + 1) + "NTE|1||" + new String(filler) + "\r" + text.substring(at + 1);
                return huge.getBytes(StandardCharsets.ISO_8859_1);
            }
            case "latin1-garbage" -> {
                byte[] out = sample.clone();
                for (int n = 1 + random.nextInt(20); n > 0; n--) {
                    out[random.nextInt(out.length)] = (byte) (0x80 + random.nextInt(128));
                }
                return out;
            }
            case "empty" -> {
                return new byte[0];
            }
            case "no-msh" -> {
                int first = text.indexOf('\r');
                return (first < 0 ? "" : text.substring(first + 1)).getBytes(StandardCharsets.ISO_8859_1);
            }
            case "start-byte" -> {
                byte[] out = sample.clone();
                out[random.nextInt(out.length)] = Mllp.START;
                return out;
            }
            default -> {
                return sample;
            }
        }
    }

    /** MSH-15 {@code NE} and MSH-16 {@code NE} or empty: the sender wants no acknowledgement at all. */
    static boolean asksForNoAcknowledgement(byte[] payload) {
        String text = new String(payload, StandardCharsets.ISO_8859_1);
        if (!text.startsWith("MSH|")) {
            return false;
        }
        String[] fields = text.split("[\r\n]", 2)[0].split("\\|", -1);
        return fields.length > 14 && "NE".equals(fields[14]) && (fields.length < 16 || fields[15].isEmpty() || "NE".equals(fields[15]));
    }

    static String controlIdOf(byte[] payload) {
        String text = new String(payload, StandardCharsets.ISO_8859_1);
        if (!text.startsWith("MSH|")) {
            return null;
        }
        String[] fields = text.split("[\r\n]", 2)[0].split("\\|", -1);
        return fields.length > 9 ? fields[9] : null;
    }
}
