-- An aggregate and its state function go: the aggregate is dropped first.
-- [a]
create table t301 (id int);
create function f301_acc(state int8, v int) returns int8 language sql immutable strict as $$ select state + v $$;
create aggregate sum301(int) (sfunc = f301_acc, stype = int8, initcond = '0');
-- [b]
create table t301 (id int);
-- [hazards] untrackable_dependencies
-- [sql] DROP AGGREGATE public.sum301(integer)
