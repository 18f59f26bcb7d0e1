-- A partition leaves its partitioned table and stays as a table: DETACH PARTITION
-- CONCURRENTLY (outside a transaction), and the CHECK constraint it leaves behind goes.
-- (The key column is nullable: on PostgreSQL 18 a detached table keeps the parent's NOT NULL
-- constraint names, which the engine does not model — a known gap.)
-- [a]
create table events (at date, body text) partition by range (at);
create table events_2024 partition of events for values from ('2024-01-01') to ('2025-01-01');
create table events_2025 partition of events for values from ('2025-01-01') to ('2026-01-01');
-- [b]
create table events (at date, body text) partition by range (at);
create table events_2024 (at date, body text);
create table events_2025 partition of events for values from ('2025-01-01') to ('2026-01-01');
-- [hazards] correctness
-- [sql] ALTER TABLE public.events DETACH PARTITION public.events_2024 CONCURRENTLY
