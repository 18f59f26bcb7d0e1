-- A partition's own index (the child of a partitioned index) marked CLUSTER ON, and its
-- comment set and removed: planned, converging, and not reported by the safety net (found by
-- an outside attacker: CLUSTER ON was planned again on every diff).
-- [a]
create table f786_p (id int, k int, v text) partition by list (k);
create table f786_p1 partition of f786_p for values in (1);
create index f786_p_id on f786_p (id);
create index f786_p_v on f786_p (v);
comment on index f786_p1_id_idx is 'goes';
-- [b]
create table f786_p (id int, k int, v text) partition by list (k);
create table f786_p1 partition of f786_p for values in (1);
create index f786_p_id on f786_p (id);
create index f786_p_v on f786_p (v);
alter table f786_p1 cluster on f786_p1_v_idx;
comment on index f786_p1_v_idx is 'comes';
-- [hazards]
-- [sql] ALTER TABLE public.f786_p1 CLUSTER ON f786_p1_v_idx
-- [sql] COMMENT ON INDEX public.f786_p1_id_idx IS NULL
