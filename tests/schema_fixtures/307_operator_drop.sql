-- An operator and its function go: the operator is dropped first.
-- [a]
create table t307 (id int);
create function f307_eq(a int, b int) returns boolean language sql immutable as $$ select a = b $$;
create operator === (function = f307_eq, leftarg = int, rightarg = int);
-- [b]
create table t307 (id int);
-- [hazards] untrackable_dependencies
-- [sql] DROP OPERATOR public.===(integer, integer)
