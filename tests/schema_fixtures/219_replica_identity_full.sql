-- REPLICA IDENTITY FULL, NOTHING, and back to DEFAULT
-- [a]
create table t1 (id int primary key);
create table t2 (id int primary key);
create table t3 (id int primary key);
alter table t3 replica identity full;
-- [b]
create table t1 (id int primary key);
create table t2 (id int primary key);
create table t3 (id int primary key);
alter table t1 replica identity full;
alter table t2 replica identity nothing;
-- [hazards] access_exclusive_lock, replication
-- [sql] ALTER TABLE public.t1 REPLICA IDENTITY FULL
-- [sql] ALTER TABLE public.t2 REPLICA IDENTITY NOTHING
-- [sql] ALTER TABLE public.t3 REPLICA IDENTITY DEFAULT
