-- A column dropped and added again (it becomes generated) gets its attribute options back
-- (n_distinct); other columns' options change, or are reset, in place.
-- [a]
create table t (id int primary key, a int, b int, c int, g int);
alter table t alter column g set (n_distinct = 5);
alter table t alter column b set (n_distinct = 3);
alter table t alter column c set (n_distinct = -0.5);
-- [b]
create table t (id int primary key, a int, b int, c int, g int generated always as (a * 3) stored);
alter table t alter column g set (n_distinct = 5);
alter table t alter column b set (n_distinct = 4);
-- [hazards] access_exclusive_lock, deletes_data, table_rewrite
-- [sql] ALTER TABLE public.t ALTER COLUMN g SET (n_distinct=5)
-- [sql] ALTER TABLE public.t ALTER COLUMN b SET (n_distinct=4)
-- [sql] ALTER TABLE public.t ALTER COLUMN c RESET (n_distinct)
