package org.carerelay.gateway;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/** Module boundaries: the canonical model stays pure, routes only wire. */
@AnalyzeClasses(packages = "org.carerelay", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule fhirModelImportsNoCamelNoSpring = noClasses()
            .that().resideInAPackage("org.carerelay.fhir..")
            .should().dependOnClassesThat().resideInAnyPackage("org.apache.camel..", "org.springframework..")
            .as("fhir-model imports no Camel and no Spring");

    @ArchTest
    static final ArchRule routesNeverTouchJdbc = noClasses()
            .that().resideInAPackage("org.carerelay.routes..")
            .should().dependOnClassesThat().resideInAnyPackage("java.sql..", "javax.sql..", "org.springframework.jdbc..")
            .as("routes never touch JDBC directly");

    @ArchTest
    static final ArchRule modelAndRoutesDoNotDependOnTheApp = noClasses()
            .that().resideInAnyPackage("org.carerelay.fhir..", "org.carerelay.routes..")
            .should().dependOnClassesThat().resideInAPackage("org.carerelay.gateway..")
            .as("fhir-model and routes do not depend on the application");

    @ArchTest
    static final ArchRule bouncyCastleStaysBehindTheCryptoInterfaces = noClasses()
            .that().resideOutsideOfPackage("org.carerelay.routes.crypto..")
            .should().dependOnClassesThat().resideInAPackage("org.bouncycastle..")
            .as("Bouncy Castle is used only behind the interfaces of routes.crypto");

    @ArchTest
    static final ArchRule featurePackagesAreFreeOfCycles = slices()
            .matching("org.carerelay.gateway.(*)..")
            .should().beFreeOfCycles()
            .as("the packages of the gateway application depend one way: kernel below, features, server wiring above");

    @ArchTest
    static final ArchRule nothingDependsOnTheServerWiring = noClasses()
            .that().resideInAPackage("org.carerelay.gateway..")
            .and().resideOutsideOfPackage("org.carerelay.gateway.server..")
            .should().dependOnClassesThat().resideInAPackage("org.carerelay.gateway.server..")
            .as("the server wiring sits on top: no feature package depends on it");

    @ArchTest
    static final ArchRule theKernelDependsOnNoFeature = noClasses()
            .that().resideInAPackage("org.carerelay.gateway.kernel..")
            .should().dependOnClassesThat(resideInAPackage("org.carerelay.gateway..")
                    .and(not(resideInAPackage("org.carerelay.gateway.kernel.."))))
            .as("the shared kernel sits at the bottom: it depends on no feature package");
}
