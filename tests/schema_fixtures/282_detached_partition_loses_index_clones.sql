-- A partition detached into a plain table keeps its clones of the partitioned table's indexes
-- (attack12 N15): dropped after the detach (a key's clone stays the key's: with keys on the
-- partitioned table, the server picks the clones no constraint uses); an index the desired
-- schema has on the table under the clone's name is built again afterwards.
-- [a]
create table f282_p (id int, k int) partition by range (k);
create index f282_pi on f282_p (id);
create table f282_p2 partition of f282_p for values from (10) to (20);
create table f282_p3 partition of f282_p for values from (20) to (30);
create table f282_q (id int, k int, primary key (id, k)) partition by range (k);
create index f282_qi on f282_q (id);
create table f282_q1 partition of f282_q for values from (10) to (20);
-- [b]
create table f282_p (id int, k int) partition by range (k);
create index f282_pi on f282_p (id);
create table f282_p2 (id int, k int);
create table f282_p3 (id int, k int);
create index f282_p3_id_idx on f282_p3 (k);
create table f282_q (id int, k int, primary key (id, k)) partition by range (k);
create index f282_qi on f282_q (id);
create table f282_q1 partition of f282_q for values from (10) to (20);
alter table f282_q detach partition f282_q1;
drop index f282_q1_id_idx;
-- [hazards] access_exclusive_lock, correctness, index_build, index_dropped
-- [sql] DROP INDEX CONCURRENTLY public.f282_p2_id_idx
