-- An operator an index expression uses changes its function: dropping it would take the
-- index: refused, naming both; the rest of the plan (a new column) still applies.
-- [a]
create function f322_a(a int, b int) returns boolean language sql immutable as $$ select a = b $$;
create function f322_b(a int, b int) returns boolean language sql immutable as $$ select a is not distinct from b $$;
create operator === (function = f322_a, leftarg = int, rightarg = int);
create table t322 (a int, b int);
create index i322 on t322 ((a === b));
-- [b]
create function f322_a(a int, b int) returns boolean language sql immutable as $$ select a = b $$;
create function f322_b(a int, b int) returns boolean language sql immutable as $$ select a is not distinct from b $$;
create operator === (function = f322_b, leftarg = int, rightarg = int);
create table t322 (a int, b int, c text);
create index i322 on t322 ((a === b));
-- [hazards]
-- [unsupported] operator public.===(integer, integer): its function
-- [unsupported] but index public.i322 use it
