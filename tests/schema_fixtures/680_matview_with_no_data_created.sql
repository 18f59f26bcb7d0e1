-- A materialized view created WITH NO DATA in the desired schema is created WITH NO DATA (not
-- populated, its query does not run), with its index (seen on lago-api's last_hour_events_mv).
-- [a]
create table t (x int);
-- [b]
create table t (x int);
create materialized view mv as select x from t with no data;
create index mv_x on mv (x);
-- [hazards]
-- [sql] WITH NO DATA
