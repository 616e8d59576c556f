-- Staff accounts of registered organisations for the web inbox. A person signs in with e-mail and
-- password and a second factor (TOTP or a passkey); the TOTP secret is stored encrypted with the
-- content key (key_id names it), the password as an adaptive hash.
create table web_user (
    id                uuid        primary key,
    organization_id   text        not null,
    display_name      text        not null,
    email             text        not null,
    password_hash     text        not null,
    manager           boolean     not null default false,
    active            boolean     not null default true,
    totp_secret       bytea,
    totp_key_id       text,
    totp_last_step    bigint      not null default 0,
    failed_logins     integer     not null default 0,
    locked_until      timestamptz,
    created_at        timestamptz not null,
    last_login_at     timestamptz
);

create unique index web_user_email on web_user (lower(email));
create index web_user_organization on web_user (organization_id);
