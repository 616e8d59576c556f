-- Patients, consents, conversations and attachments.

-- Which organisations may see a patient: its creators and every participant of a conversation
-- about it.
create table patient_access (
    patient_id      text        not null,
    organization_id text        not null,
    granted_at      timestamptz not null,
    reason          text        not null check (reason in ('created', 'conversation')),
    primary key (patient_id, organization_id)
);
create index patient_access_org_idx on patient_access (organization_id);

-- One patient per KVNR, enforced by the database even under concurrent creates.
create table patient_kvnr (
    kvnr       text primary key,
    patient_id text not null
);

-- The current consent of each patient.
create table patient_consent (
    patient_id  text primary key,
    consent_id  text        not null,
    status      text        not null check (status in ('active', 'inactive')),
    actors      text[]      not null,
    updated_at  timestamptz not null
);

-- Every revocation ever made; messages sent before a revocation are masked.
create table consent_revocation (
    id          bigserial primary key,
    patient_id  text        not null,
    consent_id  text        not null,
    revoked_at  timestamptz not null,
    revoked_by  text        not null,
    reason      text
);
create index consent_revocation_patient_idx on consent_revocation (patient_id, revoked_at);

-- Attachments, encrypted at rest.
create table binary_content (
    id           text primary key,
    content_type text        not null,
    size_bytes   bigint      not null,
    sha256       text        not null,
    key_id       text        not null,
    data         bytea       not null,
    uploaded_by  text        not null,
    created_at   timestamptz not null
);

-- Messages (FHIR Communication), encrypted at rest; the columns are the routing and search index.
create table message (
    id              text primary key,
    conversation_id text        not null,
    sender_org      text        not null,
    subject_patient text,
    category        text        not null check (category in ('patient-bound', 'networking')),
    sent            timestamptz not null,
    in_response_to  text,
    key_id          text        not null,
    content         bytea       not null
);
create index message_conversation_idx on message (conversation_id, sent);
create index message_sender_idx on message (sender_org, sent);
create index message_patient_idx on message (subject_patient, sent);

create table message_recipient (
    message_id      text not null references message (id),
    organization_id text not null,
    read_at         timestamptz,
    primary key (message_id, organization_id)
);
create index message_recipient_org_idx on message_recipient (organization_id, read_at);

create table message_attachment (
    message_id text not null references message (id),
    binary_id  text not null references binary_content (id),
    primary key (message_id, binary_id)
);
create index message_attachment_binary_idx on message_attachment (binary_id);

create table conversation_participant (
    conversation_id text not null,
    organization_id text not null,
    primary key (conversation_id, organization_id)
);

-- Outbox for the routing pipeline: written in the same transaction as the message.
create table routing_job (
    id          bigserial primary key,
    message_id  text        not null unique references message (id),
    created_at  timestamptz not null,
    state       text        not null default 'pending'
);
