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

-- Earlier versions granted 'created' to any organisation that posted a KVNR already known. Such a
-- grant (audited as 'patient-create-existing' for that organisation and patient) is withdrawn,
-- unless it was the first grant of the patient; an organisation that also takes part in a
-- conversation about the patient keeps its access as a conversation participant.
update patient_access pa set reason = 'conversation'
where pa.reason = 'created'
  and exists (select 1 from audit_event a where a.subtype_code = 'patient-create-existing'
              and a.agent_who = 'Organization/' || pa.organization_id and a.entity_what = 'Patient/' || pa.patient_id)
  and exists (select 1 from patient_access f where f.patient_id = pa.patient_id and f.reason = 'created'
              and (f.granted_at, f.organization_id) < (pa.granted_at, pa.organization_id))
  and exists (select 1 from message m join conversation_participant cp on cp.conversation_id = m.conversation_id
              where m.subject_patient = pa.patient_id and cp.organization_id = pa.organization_id);
delete from patient_access pa
where pa.reason = 'created'
  and exists (select 1 from audit_event a where a.subtype_code = 'patient-create-existing'
              and a.agent_who = 'Organization/' || pa.organization_id and a.entity_what = 'Patient/' || pa.patient_id)
  and exists (select 1 from patient_access f where f.patient_id = pa.patient_id and f.reason = 'created'
              and (f.granted_at, f.organization_id) < (pa.granted_at, pa.organization_id));

-- Existing identifiers: scoped to the organisation that created the patient first (later 'created'
-- grants may stem from a KVNR match and assigned nothing).
insert into patient_identifier (assigner_org, system, value, patient_id)
select pa.organization_id, i->>'system', i->>'value', r.id
from fhir_resource r
cross join lateral jsonb_array_elements(coalesce(r.content->'identifier', '[]'::jsonb)) i
join lateral (select organization_id from patient_access
              where patient_id = r.id and reason = 'created'
              order by granted_at, organization_id limit 1) pa on true
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
