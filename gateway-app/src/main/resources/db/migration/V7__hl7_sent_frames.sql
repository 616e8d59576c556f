-- HL7v2 frames this gateway sent over MLLP (their MSH-10), so that a frame coming back to the
-- gateway's own listener — an Endpoint pointing at the gateway itself — is recognised and
-- refused instead of being accepted as a new message (a delivery loop).
create table hl7_sent (
    control_id  text        primary key,
    sent_at     timestamptz not null
);
create index hl7_sent_sent_at_idx on hl7_sent (sent_at);
