-- Searches by content (an organisation or location by identifier, consents, directory entries)
-- use this GIN index. With its default fast-update, every new row version (each changed patient,
-- a few keys for its stub) went to a pending list that every search then read in full, until a
-- vacuum merged it: an identifier lookup took about ten times longer while patients were being
-- updated (ADT^A08). Without the pending list, each write merges its keys into the index at once
-- and a search reads only the index. What an existing database has in its pending list is merged
-- by the table's next (auto)vacuum.
-- The change locks the index exclusively until this migration commits, which waits for every open
-- transaction that used the table (on other nodes, too) and holds up every new one meanwhile:
-- rather fail the start (and run again at the next) than hold up a running cluster for long.
set local lock_timeout = '10s';
alter index fhir_resource_content_idx set (fastupdate = off);
