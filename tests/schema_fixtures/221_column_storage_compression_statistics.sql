-- column SET STORAGE, SET COMPRESSION, SET STATISTICS, and back to the defaults
-- [a]
create table t (id int primary key, body text, doc jsonb, n int);
alter table t alter column doc set storage external;
alter table t alter column n set statistics 500;
-- [b]
create table t (id int primary key, body text, doc jsonb, n int, added text);
alter table t alter column body set storage main;
alter table t alter column body set compression pglz;
alter table t alter column id set statistics 1000;
alter table t alter column added set storage plain;
-- [hazards] access_exclusive_lock
-- [sql] ALTER TABLE public.t ALTER COLUMN body SET STORAGE MAIN
-- [sql] ALTER TABLE public.t ALTER COLUMN body SET COMPRESSION pglz
-- [sql] ALTER TABLE public.t ALTER COLUMN id SET STATISTICS 1000
-- [sql] ALTER TABLE public.t ALTER COLUMN n SET STATISTICS -1
-- [sql] ALTER TABLE public.t ALTER COLUMN doc SET STORAGE EXTENDED
