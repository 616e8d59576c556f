package org.carerelay.gateway.web.inbox;

import jakarta.servlet.MultipartConfigElement;
import org.carerelay.gateway.config.CareRelayProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Multipart limits of the browser forms, derived from {@code carerelay.attachments.max-bytes}: a
 * file up to twice the limit is still read, so the page can refuse it with a clear message (the
 * attachment storage checks the real limit while streaming); the container cuts off anything
 * larger. Files are buffered on disk, never in memory.
 */
@Configuration(proxyBeanMethods = false)
public class UploadLimits {

    /** Files of one form at most (a reply with several attachments, plus the form fields). */
    static final int FILES_PER_FORM = 10;

    @Bean
    public MultipartConfigElement multipartConfigElement(CareRelayProperties props) {
        long max = props.attachments().maxBytes();
        long perFile = saturatedAdd(max, Math.max(max, 1L << 20));
        long perRequest = saturatedMultiply(perFile, FILES_PER_FORM);
        return new MultipartConfigElement("", perFile, perRequest, 0);
    }

    static long saturatedAdd(long a, long b) {
        long r = a + b;
        return r < 0 ? Long.MAX_VALUE : r;
    }

    static long saturatedMultiply(long a, int b) {
        return a > Long.MAX_VALUE / b ? Long.MAX_VALUE : a * b;
    }
}
