-- REPLICA IDENTITY USING INDEX on an index the plan creates
-- [a]
create table t (id int, code text not null);
-- [b]
create table t (id int, code text not null);
create unique index t_code on t (code);
alter table t replica identity using index t_code;
-- [hazards] access_exclusive_lock, replication, index_build
-- [sql] ALTER TABLE public.t REPLICA IDENTITY USING INDEX t_code
