-- A column's n_distinct set while its type changes (F24): the type change used to explain
-- every setting of the column (exit 0, n_distinct lost).
-- [a]
create table t623 (id int, x int);
-- [b]
create table t623 (id int, x bigint);
alter table t623 alter column x set (n_distinct = 10);
-- [hazards] access_exclusive_lock, table_rewrite
-- [sql] ALTER TABLE public.t623 ALTER COLUMN x SET (n_distinct=10)
