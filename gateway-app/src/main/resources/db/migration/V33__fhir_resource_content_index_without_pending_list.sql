-- Searches by content (an organisation or location by identifier, consents, directory entries)
-- use this GIN index. With its default fast-update, every new row version (each changed patient,
-- a few keys for its stub) went to a pending list that every search then read in full, until a
-- vacuum or a search-time cleanup merged it: an identifier lookup took about ten times longer
-- while patients were being updated (ADT^A08). Without the pending list, each write merges its
-- keys into the index at once and a search reads only the index.
alter index fhir_resource_content_idx set (fastupdate = off);
-- what an existing database has in its pending list goes into the index now
select gin_clean_pending_list('fhir_resource_content_idx');
