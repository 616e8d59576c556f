-- HL7v2 inbound: acknowledgements of accepted messages, to answer a repeated MSH-10 with the
-- original ACK instead of processing it twice.
create table hl7_inbound (
    sender_org    text        not null,
    control_id    text        not null,
    message_type  text        not null,
    received_at   timestamptz not null,
    ack           text        not null,
    charset       text        not null,
    primary key (sender_org, control_id)
);
create index hl7_inbound_received_idx on hl7_inbound (received_at);
