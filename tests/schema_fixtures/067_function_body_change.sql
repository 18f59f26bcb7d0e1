-- A function's body and volatility change: CREATE OR REPLACE.
-- [a]
create function f(i int) returns int language sql as $$ select i + 1 $$;
-- [b]
create function f(i int) returns int language sql immutable as $$ select i + 2 $$;
-- [hazards]
-- [sql] CREATE OR REPLACE FUNCTION public.f(i integer)
