-- A plain table with a primary key and an index like its partitioned table's becomes a
-- partition. Known gap: the engine does not model a partition's inherited keys and
-- indexes, so the table's own are dropped first and ATTACH builds them again under its lock
-- (ATTACH could adopt them); the plan converges, and says so (index_dropped).
-- [a]
create table events (id int, at date, body text, primary key (id, at)) partition by range (at);
create index events_body on events (body);
create table events_2026 (id int, at date, body text, primary key (id, at));
create index events_2026_body_idx on events_2026 (body);
-- [b]
create table events (id int, at date, body text, primary key (id, at)) partition by range (at);
create index events_body on events (body);
create table events_2026 partition of events for values from ('2026-01-01') to ('2027-01-01');
-- [hazards] access_exclusive_lock, correctness, index_dropped
-- [sql] ATTACH PARTITION public.events_2026
