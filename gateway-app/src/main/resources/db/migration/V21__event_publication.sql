-- Spring Modulith's JDBC event publication registry (schema v2, as in spring-modulith-events-jdbc
-- 2.0.3, schemas/v2/schema-postgresql.sql). "Message accepted" is written here in the accepting
-- transaction; completed publications are deleted (completion-mode delete), so the table holds the
-- open ones only.
CREATE TABLE IF NOT EXISTS event_publication
(
  id                     UUID NOT NULL,
  listener_id            TEXT NOT NULL,
  event_type             TEXT NOT NULL,
  serialized_event       TEXT NOT NULL,
  publication_date       TIMESTAMP WITH TIME ZONE NOT NULL,
  completion_date        TIMESTAMP WITH TIME ZONE,
  status                 TEXT,
  completion_attempts    INT,
  last_resubmission_date TIMESTAMP WITH TIME ZONE,
  PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS event_publication_serialized_event_hash_idx ON event_publication USING hash(serialized_event);
CREATE INDEX IF NOT EXISTS event_publication_by_completion_date_idx ON event_publication (completion_date);

-- routing_job is no longer written; rows the previous release left unsent are adopted as
-- publications at start-up and by the resubmission timer. The table is dropped in a later release.
comment on table routing_job is 'unused since V21: drained into event_publication; to be dropped';
