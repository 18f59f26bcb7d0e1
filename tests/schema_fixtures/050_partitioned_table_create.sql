-- A new range-partitioned table with partitions, a default partition and a partitioned index.
-- [a]
create table t (id int);
-- [b]
create table t (id int);
create table measurements (id bigint generated always as identity, at date not null, v numeric, primary key (id, at)) partition by range (at);
create table measurements_2024 partition of measurements for values from ('2024-01-01') to ('2025-01-01');
create table measurements_2025 partition of measurements for values from ('2025-01-01') to ('2026-01-01');
create table measurements_rest partition of measurements default;
create index measurements_at on measurements (at);
-- [hazards]
