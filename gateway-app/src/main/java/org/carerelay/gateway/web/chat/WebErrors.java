package org.carerelay.gateway.web.chat;

import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ExceptionHandler;

/**
 * On the chat and patient pages, anything the caller may not see is simply not found: 404 with
 * nothing of it shown (the same answer as for an id that does not exist).
 */
@ControllerAdvice(assignableTypes = {NewChatController.class, PatientController.class})
public class WebErrors {

    @ExceptionHandler(ResourceNotFoundException.class)
    public void notFound(HttpServletResponse response) throws IOException {
        response.sendError(HttpServletResponse.SC_NOT_FOUND);
    }
}
