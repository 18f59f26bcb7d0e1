-- A partition's own index (the child of a partitioned index) was invisible to the model and
-- the safety net (found by an outside attacker): its storage options and its name changed
-- read "no schema changes", on sub-partitions too; CLUSTER ON one was planned again on every
-- diff (786). The net now has a row for each (name, options, tablespace, parent index):
-- reported. A partition index renamed is now planned (renamed in place, see 290).
-- [a]
create table f784_p (id int, k int, v text) partition by list (k);
create table f784_p1 partition of f784_p for values in (1);
create table f784_p2 partition of f784_p for values in (2) partition by list (id);
create table f784_p2a partition of f784_p2 for values in (1);
create index f784_p_id on f784_p (id);
create index f784_p_v on f784_p (v);
-- [b]
create table f784_p (id int, k int, v text) partition by list (k);
create table f784_p1 partition of f784_p for values in (1);
create table f784_p2 partition of f784_p for values in (2) partition by list (id);
create table f784_p2a partition of f784_p2 for values in (1);
create index f784_p_id on f784_p (id);
create index f784_p_v on f784_p (v);
alter index f784_p1_id_idx set (fillfactor = 50);
alter index f784_p2a_v_idx rename to f784_custom;
-- [hazards]
-- [unsupported] partition index public.f784_p1_id_idx
-- [sql] RENAME TO %s
