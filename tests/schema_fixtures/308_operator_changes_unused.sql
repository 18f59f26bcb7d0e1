-- An operator nothing uses gets another function (dropped and created again), and another
-- one new selectivity estimators (changed in place).
-- [a]
create function f308_a(a int, b int) returns boolean language sql immutable as $$ select a = b $$;
create function f308_lt(a int, b int) returns boolean language sql immutable as $$ select a < b $$;
create operator === (function = f308_a, leftarg = int, rightarg = int);
create operator <<< (function = f308_lt, leftarg = int, rightarg = int);
-- [b]
create function f308_b(a int, b int) returns boolean language sql immutable as $$ select a is not distinct from b $$;
create function f308_lt(a int, b int) returns boolean language sql immutable as $$ select a < b $$;
create operator === (function = f308_b, leftarg = int, rightarg = int);
create operator <<< (function = f308_lt, leftarg = int, rightarg = int, restrict = scalarltsel, join = scalarltjoinsel);
-- [hazards] untrackable_dependencies
-- [sql] DROP OPERATOR public.===(integer, integer)
-- [sql] ALTER OPERATOR public.<<<(integer, integer) SET (RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel)
