-- An aggregate a view uses changes its result type: it cannot be replaced in place, and
-- dropping it would take the view: refused, naming both.
-- [a]
create function f305_acc(state int8, v int) returns int8 language sql immutable strict as $$ select state + v $$;
create aggregate agg305(int) (sfunc = f305_acc, stype = int8, initcond = '0');
create table t305 (v int);
create view v305 as select agg305(v) as s from t305;
-- [b]
create function f305_acc(state int8, v int) returns int8 language sql immutable strict as $$ select state + v $$;
create function f305_fin(state int8) returns text language sql immutable as $$ select state::text $$;
create aggregate agg305(int) (sfunc = f305_acc, stype = int8, initcond = '0', finalfunc = f305_fin);
create table t305 (v int);
create view v305 as select agg305(v)::text as s from t305;
-- [hazards]
-- [unsupported] aggregate public.agg305(integer): its kind or result type changes
-- [unsupported] but rel:public.v305 use it
