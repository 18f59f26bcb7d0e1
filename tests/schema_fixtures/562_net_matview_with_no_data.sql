-- The safety net: a materialized view created WITH NO DATA (not populated) is seen and
-- reported.
-- [a]
create table t (id int);
create materialized view mv as select id from t;
-- [b]
create table t (id int);
create materialized view mv as select id from t with no data;
-- [hazards]
-- [unsupported] not modeled by the schema engine: materialized view not populated (WITH NO DATA) public.mv differs
