package org.carerelay.gateway.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.carerelay.fhir.ErrorCode;
import org.junit.jupiter.api.Test;

class InputShapeTest {

    private static InputShape.Violation json(String body) {
        return InputShape.checkJson(body.getBytes(StandardCharsets.UTF_8));
    }

    private static InputShape.Violation xml(String body) {
        return InputShape.checkXml(body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void validResources_pass_includingSurrogatePairs() {
        assertThat(json("{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"Hilde \\ud83d\\ude00\"]}],"
                + "\"_birthDate\":{\"extension\":[{\"url\":\"http://x\",\"valueString\":\"y\"}]}}")).isNull();
        assertThat(json("{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"A\",\"B\"],\"_given\":[null,{\"id\":\"x\"}]}]}"))
                .isNull();
        assertThat(xml("<Patient xmlns=\"http://hl7.org/fhir\"><name><given value=\"Hilde \uD83D\uDE00\"/></name></Patient>"))
                .isNull();
    }

    @Test
    void nulAndLoneSurrogates_anywhere_areInvalidCharacters() {
        for (String body : new String[] {"{\"a\":\"Hilde\\u0000\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"x\\udc00\"}",
            "{\"a\\u0000\":1}", "{\"a\":[\"ok\",\"\\ud83d\"]}"}) {
            assertThat(json(body)).as(body).extracting(InputShape.Violation::code).isEqualTo(ErrorCode.INVALID_CHARACTER);
        }
        assertThat(xml("<Patient xmlns=\"http://hl7.org/fhir\"><name><given value=\"Hilde&#0;\"/></name></Patient>"))
                .isNotNull();
    }

    @Test
    void nestedArraysAndExtensionsThatAreNoObjects_areInvalidRequests() {
        for (String body : new String[] {"{\"extension\":[[{\"url\":\"x\"}]]}", "{\"alias\":[[]]}", "{\"extension\":[\"x\"]}",
            "{\"modifierExtension\":[null]}", "{\"_given\":[42]}"}) {
            assertThat(json(body)).as(body).extracting(InputShape.Violation::code).isEqualTo(ErrorCode.INVALID_REQUEST);
        }
    }

    @Test
    void longListsDeepNestingAndLongNumbers_areTooComplex_andFoundQuickly() {
        StringBuilder list = new StringBuilder("{\"alias\":[");
        for (int i = 0; i < 600_000; i++) {
            list.append(i == 0 ? "0" : ",0");
        }
        long started = System.nanoTime();
        assertThat(json(list.append("]}").toString())).extracting(InputShape.Violation::code)
                .isEqualTo(ErrorCode.RESOURCE_TOO_COMPLEX);
        assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(1_000);

        String deep = "{\"a\":".repeat(100) + "1" + "}".repeat(100);
        assertThat(json(deep)).extracting(InputShape.Violation::code).isEqualTo(ErrorCode.RESOURCE_TOO_COMPLEX);
        assertThat(json("{\"a\":" + "9".repeat(100) + "}")).extracting(InputShape.Violation::code)
                .isEqualTo(ErrorCode.RESOURCE_TOO_COMPLEX);
        assertThat(xml("<a>" + "<b/>".repeat(6_000) + "</a>")).extracting(InputShape.Violation::code)
                .isEqualTo(ErrorCode.RESOURCE_TOO_COMPLEX);
    }

    @Test
    void queryValuesThatAreNotUtf8_areNotDecoded() {
        assertThat(RequestGuardFilter.decodeStrictly("Hilde%20M%C3%BCller+x")).isEqualTo("Hilde Müller x");
        assertThat(RequestGuardFilter.decodeStrictly("%ED%A0%80")).isNull();
        assertThat(RequestGuardFilter.decodeStrictly("%C0%80")).isNull();
        assertThat(RequestGuardFilter.decodeStrictly("%FF")).isNull();
    }
}
