-- Every FHIR search reads one page "where resource_type = ? ... order by last_updated desc, id
-- limit ? offset ?" and counts the same rows: this index serves that order directly (newest first,
-- id as the tie-breaker), so a page no longer sorts all resources of the type.
create index fhir_resource_type_updated_idx on fhir_resource (resource_type, last_updated desc, id);
