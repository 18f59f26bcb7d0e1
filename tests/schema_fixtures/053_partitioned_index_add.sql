-- An index on an existing partitioned table cannot be built concurrently.
-- [a]
create table logs (at date not null, level int) partition by range (at);
create table logs_2024 partition of logs for values from ('2024-01-01') to ('2025-01-01');
-- [b]
create table logs (at date not null, level int) partition by range (at);
create table logs_2024 partition of logs for values from ('2024-01-01') to ('2025-01-01');
create index logs_level on logs (level);
-- [hazards] share_lock, index_build
