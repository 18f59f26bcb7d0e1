-- A partition's bound changes under a partitioned table with a default partition: DETACH
-- (not CONCURRENTLY: a default partition forbids it) and ATTACH with the new bound.
-- [a]
create table events (at date not null, body text) partition by range (at);
create table events_2025 partition of events for values from ('2025-01-01') to ('2026-01-01');
create table events_other partition of events default;
-- [b]
create table events (at date not null, body text) partition by range (at);
create table events_2025 partition of events for values from ('2025-01-01') to ('2027-01-01');
create table events_other partition of events default;
-- [hazards] access_exclusive_lock, correctness
-- [sql] ALTER TABLE public.events DETACH PARTITION public.events_2025;
-- [sql] ALTER TABLE public.events ATTACH PARTITION public.events_2025 FOR VALUES FROM ('2025-01-01') TO ('2027-01-01')
