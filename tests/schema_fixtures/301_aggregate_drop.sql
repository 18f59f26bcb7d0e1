-- An aggregate and its state function go: the aggregate is dropped first.
-- [a]
create function f301_acc(state int8, v int) returns int8 language sql immutable strict as $$ select state + v $$;
create aggregate sum301(int) (sfunc = f301_acc, stype = int8, initcond = '0');
-- [b]
select 1;
-- [hazards] untrackable_dependencies
-- [sql] DROP AGGREGATE public.sum301(integer)
