-- Rate limits: failed token presentations per client address, registration code requests and code
-- entries per client address, messages per organisation. One row per scope and subject, counted
-- with a single upsert, so concurrent requests on any number of nodes never overshoot the limit.
create table rate_counter (
    scope         text        not null,
    subject       text        not null,
    window_start  timestamptz not null,
    hits          integer     not null,
    primary key (scope, subject)
);
create index rate_counter_window_idx on rate_counter (scope, window_start);

-- Replaced by rate_counter (its check-then-insert could overshoot under concurrency).
drop table auth_failure;
