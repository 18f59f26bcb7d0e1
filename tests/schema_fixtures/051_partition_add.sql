-- A partition is added to an existing partitioned table (with an index that cascades).
-- [a]
create table logs (at date not null, msg text) partition by list (extract(year from at));
create table logs_2024 partition of logs for values in (2024);
create index logs_at on logs (at);
-- [b]
create table logs (at date not null, msg text) partition by list (extract(year from at));
create table logs_2024 partition of logs for values in (2024);
create table logs_2025 partition of logs for values in (2025);
create index logs_at on logs (at);
-- [hazards]
