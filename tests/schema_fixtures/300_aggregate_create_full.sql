-- An aggregate with every kind of support function (final, combine, moving-aggregate) and one with a SORTOP,
-- an initial condition and PARALLEL SAFE, used by a view: functions, then the aggregate,
-- then the view.
-- [a]
create table t300 (v int);
-- [b]
create table t300 (v int);
create function f300_acc(state int8, v int) returns int8 language sql immutable strict as $$ select state + v $$;
create function f300_inv(state int8, v int) returns int8 language sql immutable strict as $$ select state - v $$;
create function f300_fin(state int8) returns numeric language sql immutable as $$ select state::numeric / 2 $$;
create function f300_comb(a int8, b int8) returns int8 language sql immutable strict as $$ select a + b $$;
create aggregate half_sum(int) (sfunc = f300_acc, stype = int8, finalfunc = f300_fin, combinefunc = f300_comb,
  initcond = '0', msfunc = f300_acc, minvfunc = f300_inv, mstype = int8, mfinalfunc = f300_fin, minitcond = '0',
  sspace = 16, parallel = safe);
create aggregate max300(int) (sfunc = int4larger, stype = int, sortop = >, combinefunc = int4larger);
create view v300 as select half_sum(v) as h, max300(v) as m from t300;
-- [hazards]
-- [sql] CREATE AGGREGATE public.half_sum(integer)
