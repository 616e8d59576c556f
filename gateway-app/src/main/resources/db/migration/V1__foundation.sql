-- CareRelay foundation schema: directory resources, participants, registration, audit.

-- Current version of every FHIR resource the gateway stores (directory for now).
create table fhir_resource (
    resource_type text        not null,
    id            text        not null,
    version_id    integer     not null,
    last_updated  timestamptz not null,
    content       jsonb       not null,
    primary key (resource_type, id)
);
create index fhir_resource_content_idx on fhir_resource using gin (content jsonb_path_ops);

-- Every version ever written (nothing is lost; history is documentation).
create table fhir_resource_history (
    resource_type text        not null,
    id            text        not null,
    version_id    integer     not null,
    last_updated  timestamptz not null,
    content       jsonb       not null,
    primary key (resource_type, id, version_id)
);

-- A directory organisation that registered (or once did).
create table participant (
    organization_id  text primary key,
    status           text        not null check (status in ('registered', 'deregistered')),
    token_hash       text unique,
    contact_email    text,
    registered_at    timestamptz,
    token_issued_at  timestamptz,
    deregistered_at  timestamptz
);

-- One-time codes sent by fax or e-mail.
create table registration_challenge (
    id               bigserial primary key,
    organization_id  text        not null,
    code_hash        text        not null,
    contact_email    text        not null,
    channel          text        not null check (channel in ('fax', 'email')),
    destination      text        not null, -- masked, for display only
    created_at       timestamptz not null,
    expires_at       timestamptz not null,
    failed_attempts  integer     not null default 0,
    state            text        not null check (state in ('pending', 'used', 'void'))
);
create index registration_challenge_org_idx on registration_challenge (organization_id, created_at);

-- Failed token presentations, for rate limiting per client address across all nodes.
create table auth_failure (
    id              bigserial primary key,
    client_address  text        not null,
    occurred_at     timestamptz not null
);
create index auth_failure_addr_idx on auth_failure (client_address, occurred_at);

-- Audit trail (FHIR AuditEvent), append-only.
create table audit_event (
    id           uuid primary key,
    recorded     timestamptz not null,
    type_code    text        not null,
    subtype_code text,
    action       text,
    outcome      text        not null,
    agent_who    text,
    entity_what  text,
    content      jsonb       not null
);
create index audit_event_recorded_idx on audit_event (recorded);
create index audit_event_agent_idx on audit_event (agent_who);
create index audit_event_entity_idx on audit_event (entity_what);
