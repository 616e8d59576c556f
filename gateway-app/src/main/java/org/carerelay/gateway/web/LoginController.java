package org.carerelay.gateway.web;

import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;

/** The login page (the form posts to Spring Security's form login at the same address). */
@Controller
public class LoginController {

    @GetMapping("/anmelden")
    public String login() {
        return "anmelden";
    }

    @GetMapping("/")
    public String home() {
        return "redirect:/posteingang";
    }
}
