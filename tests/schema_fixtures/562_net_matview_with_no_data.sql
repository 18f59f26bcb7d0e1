-- A materialized view emptied (WITH NO DATA, not populated) in the desired schema: once
-- reported by the safety net, now modeled and planned as a REFRESH … WITH NO DATA (see 680-682).
-- [a]
create table t (id int);
create materialized view mv as select id from t;
-- [b]
create table t (id int);
create materialized view mv as select id from t with no data;
-- [hazards]
-- [sql] REFRESH MATERIALIZED VIEW public.mv WITH NO DATA
