-- Tables go: a partitioned table with its partitions, and an inheritance child before its parent.
-- [a]
create table keep (id int);
create table logs (at date not null) partition by range (at);
create table logs_2024 partition of logs for values from ('2024-01-01') to ('2025-01-01');
create table vehicles (id int);
create table trucks (payload int) inherits (vehicles);
-- [b]
create table keep (id int);
-- [hazards] deletes_data, access_exclusive_lock
