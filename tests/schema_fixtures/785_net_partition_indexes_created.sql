-- Partitions' own indexes have rows in the safety net (784); created with a new partition, a
-- new sub-partition or a new partitioned index (its options too), or dropped with one, they
-- are explained: no false report (a partitioned index dropped takes its partitions' along).
-- [a]
create table f785_p (id int, k int, v text) partition by list (k);
create table f785_p1 partition of f785_p for values in (1);
create index f785_p_id on f785_p (id);
create table f785_q (id int, k int) partition by list (k);
create table f785_q1 partition of f785_q for values in (1);
create table f785_q2 partition of f785_q for values in (2);
create index f785_q_id on f785_q (id);
-- [b]
create table f785_p (id int, k int, v text) partition by list (k);
create table f785_p1 partition of f785_p for values in (1);
create table f785_p2 partition of f785_p for values in (2) partition by list (id);
create table f785_p2a partition of f785_p2 for values in (1);
create index f785_p_id on f785_p (id);
create index f785_p_v on f785_p (v) with (fillfactor = 70);
create table f785_q (id int, k int) partition by list (k);
create table f785_q1 partition of f785_q for values in (1);
-- [hazards] access_exclusive_lock, deletes_data, index_build, index_dropped, share_lock
