-- Attachments become CMS objects: signed by the gateway on behalf of the sending organisation,
-- then encrypted to a storage key (AuthEnvelopedData, AES-256-GCM). They are kept in chunks so
-- that they stream in both directions; rows of the earlier format (AES-GCM with the data key in
-- binary_content.data) stay readable.
alter table binary_content alter column data drop not null;
alter table binary_content add column format text not null default 'aes-gcm';
alter table binary_content alter column format set default 'cms';
alter table binary_content add column sha1 text;
alter table binary_content add column sealed_bytes bigint;
-- set for a patient's consent document: visible wherever the patient is
alter table binary_content add column consent_patient text;
create index binary_content_consent_patient_idx on binary_content (consent_patient) where consent_patient is not null;

create table binary_chunk (
    binary_id text   not null references binary_content (id),
    seq       int    not null,
    data      bytea  not null,
    primary key (binary_id, seq)
);
-- ciphertext does not compress: store it out of line without trying
alter table binary_chunk alter column data set storage external;
