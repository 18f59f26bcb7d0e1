-- Set-returning and table functions with defaults and OUT parameters, and a view over one.
-- [a]
create table t (id int, v int);
-- [b]
create table t (id int, v int);
create function top_n(n int default 10) returns table (id int, v int) language sql stable as $$ select id, v from t order by v desc limit n $$;
create function stats(out lo int, out hi int) language sql as $$ select min(v), max(v) from t $$;
create view top3 as select * from top_n(3);
-- [hazards]
