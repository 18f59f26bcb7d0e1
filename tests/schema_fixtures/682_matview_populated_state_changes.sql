-- A kept materialized view populated on one side only: REFRESH (WITH NO DATA to empty it), no
-- rebuild.
-- [a]
create table t (x int);
create materialized view filled as select x from t;
create materialized view empty as select x from t with no data;
-- [b]
create table t (x int);
create materialized view filled as select x from t with no data;
create materialized view empty as select x from t;
-- [hazards] index_build
-- [sql] REFRESH MATERIALIZED VIEW public.filled WITH NO DATA
-- [sql] REFRESH MATERIALIZED VIEW public.empty
