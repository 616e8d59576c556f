package org.carerelay.gateway.store;

import ca.uhn.fhir.rest.api.server.IBundleProvider;
import ca.uhn.fhir.rest.server.SimpleBundleProvider;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.IntSupplier;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * One page of a search, handed to HAPI as an {@link IBundleProvider} with the total and the page's
 * offset, so HAPI writes {@code Bundle.total} and the {@code next}/{@code previous} links itself.
 *
 * <p>The links are offset links ({@code _offset}, {@code _count} and the original search
 * parameters): following one runs the search again, under the caller's own token and visibility
 * rules. No result set is kept on the server (the gateway has no paging provider), so a link taken
 * from another organisation's response shows the follower only what it would see anyway, and pages
 * stay correct across several gateway nodes.
 *
 * <p>Both queries run when the search method is called, inside its transaction, before HAPI builds
 * the bundle: {@code total} is a {@code count(*)} and the page a {@code limit}/{@code offset} query
 * with the same predicates (the same visibility filter).
 */
public final class SearchPage {

    /** Page size when the request names none. */
    public static final int DEFAULT_COUNT = 50;
    /** Largest page; a bigger {@code _count} is cut to this. */
    public static final int MAX_COUNT = 500;

    private SearchPage() {
    }

    /** {@code _count} as a page size: default when absent, at most {@link #MAX_COUNT}, never negative. */
    public static int pageSize(Integer count) {
        return pageSize(count, DEFAULT_COUNT, MAX_COUNT);
    }

    public static int pageSize(Integer count, int defaultCount, int maxCount) {
        return count == null ? defaultCount : Math.max(0, Math.min(count, maxCount));
    }

    /** {@code _offset} as a row offset: 0 when absent, never negative. */
    public static int offset(Integer offset) {
        return offset == null ? 0 : Math.max(0, offset);
    }

    /**
     * Runs {@code count} and {@code page(offset, pageSize)} and wraps the result for HAPI. A page
     * size of 0 asks for the total only ({@code _count=0}, a FHIR idiom): the page query is skipped.
     */
    public static IBundleProvider of(int offset, int pageSize, IntSupplier count,
            BiFunction<Integer, Integer, List<? extends IBaseResource>> page) {
        int total = count.getAsInt();
        List<? extends IBaseResource> resources = pageSize == 0 || offset >= total ? List.of() : page.apply(offset, pageSize);
        return of(resources, total, offset, pageSize);
    }

    /** A page already read: {@code resources} at {@code offset} of {@code total}. */
    public static IBundleProvider of(List<? extends IBaseResource> resources, int total, int offset, int pageSize) {
        SimpleBundleProvider provider = new SimpleBundleProvider(resources);
        provider.setSize(total);
        provider.setCurrentPageOffset(offset);
        provider.setCurrentPageSize(pageSize);
        return provider;
    }
}
