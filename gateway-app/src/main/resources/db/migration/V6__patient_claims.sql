-- A known identifier grants nothing by itself: an organisation sees a patient only when it created
-- it, takes part in a conversation about it, or is named in its active consent (and joined).
alter table patient_access drop constraint patient_access_reason_check;
alter table patient_access add constraint patient_access_reason_check
    check (reason in ('created', 'conversation', 'consent'));

-- patient_kvnr keeps the one canonical patient per KVNR. An organisation that may not see it and
-- sends the same KVNR gets a record of its own, kept here so that a repeat finds that record again.
create table patient_kvnr_local (
    kvnr            text not null,
    organization_id text not null,
    patient_id      text not null,
    primary key (kvnr, organization_id)
);

-- Identifiers other than the KVNR (MRN, case number, ...) belong to the organisation that
-- assigned them: an HL7 message matches only the identifiers its own sender assigned.
create table patient_identifier (
    assigner_org text not null,
    system       text not null,
    value        text not null,
    patient_id   text not null,
    primary key (assigner_org, system, value)
);
create index patient_identifier_patient_idx on patient_identifier (patient_id);

-- Existing identifiers: scoped to the organisations that created the patient.
insert into patient_identifier (assigner_org, system, value, patient_id)
select pa.organization_id, i->>'system', i->>'value', r.id
from fhir_resource r
cross join lateral jsonb_array_elements(coalesce(r.content->'identifier', '[]'::jsonb)) i
join patient_access pa on pa.patient_id = r.id and pa.reason = 'created'
where r.resource_type = 'Patient'
  and i->>'system' is not null and i->>'value' is not null
  and i->>'system' <> 'http://fhir.de/sid/gkv/kvid-10'
on conflict do nothing;

-- The organisation that uploaded the signed document of the current consent: only it changes the
-- consent; any actor may record a revocation.
alter table patient_consent add column author_org text;
update patient_consent pc set author_org = b.uploaded_by
from fhir_resource r, binary_content b
where r.resource_type = 'Consent' and r.id = pc.consent_id
  and b.id = substring(r.content->'sourceAttachment'->>'url' from '^Binary/(.+)$');
