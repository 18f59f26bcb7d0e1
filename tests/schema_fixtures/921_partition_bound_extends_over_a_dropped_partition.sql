-- A partition's bound extends over the range of a partition that goes, beside a default
-- partition (attacker F15, p_bound_ext): the partition that goes is detached first, so that
-- the extended bound does not overlap it when the partition is attached again.
-- [a]
create table t (id int) partition by range (id);
create table t_p1 partition of t for values from (0) to (50);
create table t_p2 partition of t for values from (50) to (100);
create table t_d partition of t default;
insert into t values (1), (500);
-- [b]
create table t (id int) partition by range (id);
create table t_p1 partition of t for values from (0) to (100);
create table t_d partition of t default;
-- [hazards] access_exclusive_lock, correctness, deletes_data
-- [sql] ALTER TABLE public.t DETACH PARTITION public.t_p2
-- [sql] ALTER TABLE public.t ATTACH PARTITION public.t_p1 FOR VALUES FROM (0) TO (100)
