-- A partition detached into a plain table keeps its clones of the partitioned table's indexes
-- (attack12 N15): dropped after the detach; an index the desired schema has on the table under
-- the clone's name is built again afterwards.
-- [a]
create table f282_p (id int, k int) partition by range (k);
create index f282_pi on f282_p (id);
create table f282_p2 partition of f282_p for values from (10) to (20);
create table f282_p3 partition of f282_p for values from (20) to (30);
-- [b]
create table f282_p (id int, k int) partition by range (k);
create index f282_pi on f282_p (id);
create table f282_p2 (id int, k int);
create table f282_p3 (id int, k int);
create index f282_p3_id_idx on f282_p3 (k);
-- [hazards] correctness, index_build, index_dropped
-- [sql] DROP INDEX CONCURRENTLY public.f282_p2_id_idx
