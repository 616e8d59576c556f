package org.carerelay.gateway.store;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.api.server.IBundleProvider;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.r4.model.Organization;
import org.junit.jupiter.api.Test;

class SearchPageTest {

    @Test
    void countAndOffset_areClampedAsTheReadmeSays() {
        assertThat(SearchPage.pageSize(null)).isEqualTo(50);
        assertThat(SearchPage.pageSize(5000)).isEqualTo(500);
        assertThat(SearchPage.pageSize(-3)).isZero();
        assertThat(SearchPage.pageSize(null, 100, 1000)).isEqualTo(100);
        assertThat(SearchPage.pageSize(800, 100, 1000)).isEqualTo(800);
        assertThat(SearchPage.offset(null)).isZero();
        assertThat(SearchPage.offset(-1)).isZero();
    }

    @Test
    void page_carriesTheTotalAndItsOffset_forHapiToWriteTheLinks() {
        List<int[]> queried = new ArrayList<>();
        IBundleProvider page = SearchPage.of(40, 20, () -> 1200, (from, size) -> {
            queried.add(new int[] {from, size});
            return List.of(new Organization().setName("a").setId("Organization/a"));
        });
        assertThat(page.size()).isEqualTo(1200);
        assertThat(page.getCurrentPageOffset()).isEqualTo(40);
        assertThat(page.getCurrentPageSize()).isEqualTo(20);
        assertThat(page.getResources(0, Integer.MAX_VALUE)).hasSize(1);
        assertThat(queried).singleElement().satisfies(q -> assertThat(q).containsExactly(40, 20));
    }

    @Test
    void totalOnly_orAnOffsetBeyondTheEnd_doesNotRunThePageQuery() {
        List<Integer> queried = new ArrayList<>();
        IBundleProvider totalOnly = SearchPage.of(0, 0, () -> 7, (from, size) -> {
            queried.add(from);
            return List.of();
        });
        IBundleProvider beyond = SearchPage.of(10, 5, () -> 7, (from, size) -> {
            queried.add(from);
            return List.of();
        });
        assertThat(totalOnly.size()).isEqualTo(7);
        assertThat(totalOnly.getResources(0, Integer.MAX_VALUE)).isEmpty();
        assertThat(beyond.getResources(0, Integer.MAX_VALUE)).isEmpty();
        assertThat(queried).isEmpty();
    }
}
