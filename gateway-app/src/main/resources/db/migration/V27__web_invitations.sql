-- Invitations of colleagues to the web inbox: a manager invites a person by e-mail; the link in the
-- mail carries a random token of which only the SHA-256 hash is stored. Valid for a limited time,
-- usable once (used_at), and only for the organisation of the manager who sent it.
create table web_invitation (
    id                uuid        primary key,
    organization_id   text        not null,
    token_hash        text        not null,
    display_name      text        not null,
    email             text        not null,
    invited_by        uuid        not null references web_user (id),
    created_at        timestamptz not null,
    expires_at        timestamptz not null,
    used_at           timestamptz
);

create unique index web_invitation_token on web_invitation (token_hash);
create index web_invitation_organization on web_invitation (organization_id);
