-- An aggregate nothing uses changes its result type (a final function is added): dropped
-- and created again.
-- [a]
create function f304_acc(state int8, v int) returns int8 language sql immutable strict as $$ select state + v $$;
create aggregate agg304(int) (sfunc = f304_acc, stype = int8, initcond = '0');
-- [b]
create function f304_acc(state int8, v int) returns int8 language sql immutable strict as $$ select state + v $$;
create function f304_fin(state int8) returns text language sql immutable as $$ select state::text $$;
create aggregate agg304(int) (sfunc = f304_acc, stype = int8, initcond = '0', finalfunc = f304_fin);
-- [hazards] untrackable_dependencies
-- [sql] DROP AGGREGATE public.agg304(integer)
