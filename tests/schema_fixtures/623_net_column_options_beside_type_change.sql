-- A column's n_distinct set while its type changes (F24): the type change used to explain
-- every setting of the column (exit 0, n_distinct lost).
-- [a]
create table t623 (id int, x int);
-- [b]
create table t623 (id int, x bigint);
alter table t623 alter column x set (n_distinct = 10);
-- [hazards] access_exclusive_lock, table_rewrite
-- [unsupported] not modeled by the schema engine: column public.t623.x differs (options)
