-- An unpopulated (WITH NO DATA) materialized view rebuilt around a column type change of its
-- table comes back unpopulated — not populated by its query.
-- [a]
create table t (x int);
insert into t values (1);
create materialized view mv as select x from t with no data;
-- [b]
create table t (x bigint);
create materialized view mv as select x from t with no data;
-- [hazards] access_exclusive_lock, table_rewrite
-- [sql] WITH NO DATA
