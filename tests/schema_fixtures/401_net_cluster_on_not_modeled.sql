-- `CLUSTER ON` marks an index (pg_index.indisclustered). Once only the safety net saw it
-- (the index's model was the same, the catalog's row was not); it is modeled now and planned.
-- [a]
create table t (id int, code text);
create index t_code_idx on t (code);
-- [b]
create table t (id int, code text);
create index t_code_idx on t (code);
alter table t cluster on t_code_idx;
-- [hazards]
-- [sql] ALTER TABLE public.t CLUSTER ON t_code_idx
