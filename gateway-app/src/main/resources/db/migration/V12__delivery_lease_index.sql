-- The sweeper looks for push deliveries whose attempt died with its node (lease expired, still
-- queued) on every tick; only rows with a lease are indexed, so the lookup stays small.
create index delivery_lease_idx on delivery (in_flight_until) where state = 'queued' and in_flight_until is not null;
