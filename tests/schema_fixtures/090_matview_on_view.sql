-- A materialized view over a view over a table whose column type changes.
-- [a]
create table t (id int, v int);
create view v as select id, v from t;
create materialized view m as select sum(v) as s from v;
-- [b]
create table t (id int, v bigint);
create view v as select id, v from t;
create materialized view m as select sum(v) as s from v;
-- [hazards] access_exclusive_lock, table_rewrite, index_build
