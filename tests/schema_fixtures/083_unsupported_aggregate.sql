-- A user-defined aggregate over a built-in state function is created.
-- [a]
create table t (v int);
-- [b]
create table t (v int);
create aggregate my_sum (int) (sfunc = int4pl, stype = int);
-- [hazards]
-- [sql] CREATE AGGREGATE public.my_sum(integer) (SFUNC = pg_catalog.int4pl, STYPE = integer)
