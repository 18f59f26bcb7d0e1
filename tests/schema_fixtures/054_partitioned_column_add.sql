-- A column added to a partitioned table reaches its partitions.
-- [a]
create table logs (at date not null) partition by range (at);
create table logs_2024 partition of logs for values from ('2024-01-01') to ('2025-01-01');
-- [b]
create table logs (at date not null, msg text default '') partition by range (at);
create table logs_2024 partition of logs for values from ('2024-01-01') to ('2025-01-01');
-- [hazards]
