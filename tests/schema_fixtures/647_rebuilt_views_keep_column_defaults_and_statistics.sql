-- Views and a materialized view are dropped and created again for a column type change: a
-- view's column default and the materialized view's extended statistics come back.
-- [a]
create table t (id int primary key, x int, y int);
create view v1 with (security_barrier) as select id, x from t;
alter view v1 alter column x set default 7;
create view v2 as select x from v1;
create materialized view m as select id, x, y from t;
create statistics mst on id, y from m;
-- [b]
create table t (id int primary key, x bigint, y int);
create view v1 with (security_barrier) as select id, x from t;
alter view v1 alter column x set default 7;
create view v2 as select x from v1;
create materialized view m as select id, x, y from t;
create statistics mst on id, y from m;
-- [hazards] access_exclusive_lock, index_build, table_rewrite
-- [sql] ALTER VIEW public.v1 ALTER COLUMN x SET DEFAULT 7
-- [sql] CREATE STATISTICS public.mst
