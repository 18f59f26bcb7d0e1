-- A partition's bound shrinks and a new partition takes the range it gives up (attacker F15):
-- the partition is detached before the new one is created (it would overlap the old bound),
-- then attached under its new bound. Its rows all lie inside the new bound here; rows outside
-- it are counted on `--from` and refuse the plan (schema_transitions.rs).
-- [a]
create table t (id int) partition by range (id);
create table t_p1 partition of t for values from (0) to (100);
insert into t select g from generate_series(0, 49) g;
-- [b]
create table t (id int) partition by range (id);
create table t_p1 partition of t for values from (0) to (50);
create table t_p2 partition of t for values from (50) to (100);
-- [hazards] access_exclusive_lock, correctness
-- [sql] ALTER TABLE public.t DETACH PARTITION public.t_p1 CONCURRENTLY
-- [sql] ALTER TABLE public.t ATTACH PARTITION public.t_p1 FOR VALUES FROM (0) TO (50)
