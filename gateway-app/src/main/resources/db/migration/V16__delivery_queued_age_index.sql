-- The metrics sampler asks for the oldest queued delivery per channel every few seconds; this
-- partial index answers each min(created_at) from its first entry, whatever the size of the ledger.
create index delivery_queued_age_idx on delivery (channel, created_at) where state = 'queued';
