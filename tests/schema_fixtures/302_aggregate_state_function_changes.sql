-- An aggregate used by a view gets another state function (the old one goes): replaced in
-- place, then the old function is dropped.
-- [a]
create function f302_add(state int8, v int) returns int8 language sql immutable strict as $$ select state + v $$;
create aggregate acc302(int) (sfunc = f302_add, stype = int8, initcond = '0');
create table t302 (v int);
create view v302 as select acc302(v) as s from t302;
-- [b]
create function f302_mul(state int8, v int) returns int8 language sql immutable strict as $$ select state * v $$;
create aggregate acc302(int) (sfunc = f302_mul, stype = int8, initcond = '1');
create table t302 (v int);
create view v302 as select acc302(v) as s from t302;
-- [hazards] untrackable_dependencies
-- [sql] CREATE OR REPLACE AGGREGATE public.acc302(integer) (SFUNC = public.f302_mul, STYPE = bigint, INITCOND = '1')
-- [sql] DROP FUNCTION public.f302_add(state bigint, v integer)
