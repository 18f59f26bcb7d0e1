-- A partition moved to another partitioned table, its name holding the plan's own dollar-quote
-- tag: the DO block that drops DETACH … CONCURRENTLY's leftover CHECK quoted the name inside
-- `$neon_migrate$ … $neon_migrate$`, so the name closed it and `drop table f810_victim` ran as
-- a statement of the plan (found by an outside attacker). The tag now is one the body lacks.
-- [a]
create table f810_victim (id int);
create table f810_tp (id int, k int) partition by range (k);
create table "f810_p$neon_migrate$; drop table f810_victim; --'x" partition of f810_tp for values from (0) to (100);
create table f810_tq (id int, k int) partition by range (k);
-- [b]
create table f810_victim (id int);
create table f810_tp (id int, k int) partition by range (k);
create table f810_tq (id int, k int) partition by range (k);
create table "f810_p$neon_migrate$; drop table f810_victim; --'x" partition of f810_tq for values from (0) to (100);
-- [hazards] correctness, access_exclusive_lock
-- [sql] DO $neon_migrate_1$ DECLARE c name;
