package org.carerelay.gateway.web.account;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.carerelay.gateway.GatewayIntegrationTest;
import org.carerelay.gateway.Participants;
import org.carerelay.gateway.web.WebAccounts;
import org.carerelay.gateway.web.WebSession;
import org.carerelay.gateway.web.WebUsers;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The session cookie's flags, and the audit of sign-ins to the web inbox. */
class WebSessionSecurityIT extends GatewayIntegrationTest {

    @Autowired
    WebUsers users;
    @Autowired
    JdbcClient jdbc;

    private List<String> webLogins(String agent) {
        return jdbc.sql("select content::text from audit_event where subtype_code = 'web-login' and agent_who = ?")
                .param(agent).query(String.class).list();
    }

    @Test
    void sessionCookie_isHttpOnly_andSameSiteLax() {
        HttpResponse<String> login = new WebSession(webUrl()).get("/anmelden");
        String cookie = login.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("CARERELAY_SESSION="))
                .findFirst().orElseThrow();
        assertThat(cookie).containsIgnoringCase("HttpOnly").containsIgnoringCase("SameSite=Lax");
    }

    @Test
    void signIn_isAudited_namingOrganisationAndPerson() {
        String org = Participants.registerNew(this, "Heim Audit").organizationId();
        WebAccounts.Login login = WebAccounts.newUser(users, org, "Anna Audit", false);
        WebSession.signIn(webUrl(), login);
        List<String> events = webLogins("Organization/" + org);
        assertThat(events).hasSize(1);
        assertThat(events.get(0)).contains(login.userId()).contains("Anna Audit");
    }

    @Test
    void refusedPasswordForAnUnknownAddress_isAudited_withoutTheAddress() {
        String probe = unique("probe").toLowerCase() + "@nobody.example.org";
        long before = jdbc.sql("select count(*) from audit_event where subtype_code = 'web-login' and agent_who = 'anonymous'")
                .query(Long.class).single();
        WebSession session = new WebSession(webUrl());
        session.get("/anmelden");
        HttpResponse<String> refused = session.post("/anmelden", Map.of("email", probe, "passwort", "falsch-falsch-falsch"));
        assertThat(WebSession.location(refused)).endsWith("/anmelden?fehler");
        long after = jdbc.sql("select count(*) from audit_event where subtype_code = 'web-login' and agent_who = 'anonymous'")
                .query(Long.class).single();
        assertThat(after).isGreaterThan(before);
        assertThat(jdbc.sql("select count(*) from audit_event where content::text like ?").param("%" + probe + "%")
                .query(Long.class).single()).isZero();
    }
}
