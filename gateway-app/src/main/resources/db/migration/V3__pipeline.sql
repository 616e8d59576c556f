-- Routing pipeline: delivery ledger per message and recipient, invitations.

create table delivery (
    message_id     text        not null references message (id),
    recipient_org  text        not null,
    channel        text        not null check (channel in ('fhir', 'mllp', 'pull', 'invitation')),
    state          text        not null check (state in ('queued', 'delivered', 'failed', 'held-invited', 'notified')),
    attempts       integer     not null default 0,
    last_attempt   timestamptz,
    detail         text,
    delivered_at   timestamptz,
    notified_at    timestamptz,
    created_at     timestamptz not null,
    updated_at     timestamptz not null,
    primary key (message_id, recipient_org)
);
create index delivery_recipient_state_idx on delivery (recipient_org, state);

-- One open invitation per organisation (FHIR Task).
create table invitation (
    id               text primary key,
    organization_id  text        not null,
    status           text        not null check (status in ('requested', 'completed', 'cancelled')),
    channel          text        not null check (channel in ('fax', 'email')),
    destination      text        not null,
    created_at       timestamptz not null,
    last_sent_at     timestamptz not null,
    reminders        integer     not null default 0,
    completed_at     timestamptz
);
create unique index invitation_open_idx on invitation (organization_id) where status = 'requested';

-- Invitation codes are requested by the gateway, not by someone naming a contact address.
alter table registration_challenge alter column contact_email drop not null;

-- When the routing job was handed to the broker (null: not yet, the sweeper will).
alter table routing_job add column queued_at timestamptz;
create index routing_job_pending_idx on routing_job (created_at) where queued_at is null;

-- A delivery attempt in progress holds a lease, so a duplicated work item does not send twice.
alter table delivery add column in_flight_until timestamptz;
