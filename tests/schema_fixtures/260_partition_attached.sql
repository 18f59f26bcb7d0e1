-- A plain table becomes a partition of an existing partitioned table: ATTACH PARTITION.
-- On PostgreSQL 18 the table's NOT NULL constraints first take the parent's names, as a
-- partition created under it has.
-- [a]
create table events (at date not null, body text) partition by range (at);
create table events_2025 partition of events for values from ('2025-01-01') to ('2026-01-01');
create table events_2026 (at date not null, body text);
insert into events_2026 values ('2026-03-01', 'x');
-- [b]
create table events (at date not null, body text) partition by range (at);
create table events_2025 partition of events for values from ('2025-01-01') to ('2026-01-01');
create table events_2026 partition of events for values from ('2026-01-01') to ('2027-01-01');
-- [hazards] access_exclusive_lock, correctness
-- [sql] ALTER TABLE public.events ATTACH PARTITION public.events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')
