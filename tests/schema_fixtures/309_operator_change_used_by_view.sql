-- An operator a view uses gets another function: it must be dropped and created again,
-- which the view prevents: refused, naming both.
-- [a]
create function f309_a(a int, b int) returns boolean language sql immutable as $$ select a = b $$;
create function f309_b(a int, b int) returns boolean language sql immutable as $$ select a is not distinct from b $$;
create operator === (function = f309_a, leftarg = int, rightarg = int);
create table t309 (a int, b int);
create view v309 as select a === b as same from t309;
-- [b]
create function f309_a(a int, b int) returns boolean language sql immutable as $$ select a = b $$;
create function f309_b(a int, b int) returns boolean language sql immutable as $$ select a is not distinct from b $$;
create operator === (function = f309_b, leftarg = int, rightarg = int);
create table t309 (a int, b int);
create view v309 as select a === b as same from t309;
-- [hazards]
-- [unsupported] operator public.===(integer, integer): its function
-- [unsupported] but view public.v309 use it
