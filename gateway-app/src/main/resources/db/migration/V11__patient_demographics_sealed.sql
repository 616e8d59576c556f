-- Patient demographics encrypted at rest: a sealed resource keeps only type, id and meta in
-- content, the whole resource encrypted with the data key in sealed (AES-256-GCM, key_id names
-- the key). Rows written before stay readable and are converted on start.
alter table fhir_resource add column sealed bytea;
alter table fhir_resource add column key_id text;
alter table fhir_resource_history add column sealed bytea;
alter table fhir_resource_history add column key_id text;

-- Keyed hashes (HMAC-SHA256, key derived from the data key) of what patients are searched by.
create table patient_search_token (
    patient_id text not null,
    kind       text not null,
    hash       text not null,
    primary key (patient_id, kind, hash)
);
create index patient_search_token_hash_idx on patient_search_token (kind, hash);

-- KVNRs (patient_kvnr, patient_kvnr_local) and identifier values (patient_identifier) are kept as
-- keyed hashes too; rows of earlier versions are converted on start.
alter table patient_identifier add column hashed boolean not null default false;
