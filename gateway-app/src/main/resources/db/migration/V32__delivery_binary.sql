-- Binaries a FHIR delivery attempt uploaded to the recipient's server. When the Communication
-- create of that attempt fails or its answer is lost, the next attempt of the same delivery to the
-- same base URL, in the same form (plain, or enveloped for the same certificate), refers to these
-- instead of uploading the attachments again. Rows go when their delivery ends (delivered or failed
-- for good) and are not reused, and are removed, a day after the upload.
create table delivery_binary (
    message_id     text        not null,
    recipient_org  text        not null,
    binary_id      text        not null,
    base_url       text        not null,
    form           text        not null,
    remote_ref     text        not null,
    created_at     timestamptz not null,
    primary key (message_id, recipient_org, binary_id, base_url, form),
    foreign key (message_id, recipient_org) references delivery (message_id, recipient_org) on delete cascade
);
create index delivery_binary_created_idx on delivery_binary (created_at);
