package org.carerelay.gateway.web.inbox;

import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;

/** The inbox: the organisation's conversations. */
@Controller
public class InboxController {

    @GetMapping("/posteingang")
    public String inbox() {
        return "posteingang";
    }
}
