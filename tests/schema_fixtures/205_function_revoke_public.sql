-- REVOKE EXECUTE … FROM PUBLIC on a function (the default every function starts with), EXECUTE to one role; a procedure too
-- [a]
DO $$ BEGIN CREATE ROLE f205_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create function f(x int) returns int language sql as 'select x';
create procedure p() language sql as 'select 1';
-- [b]
DO $$ BEGIN CREATE ROLE f205_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create function f(x int) returns int language sql as 'select x';
create procedure p() language sql as 'select 1';
revoke execute on function f(int) from public;
grant execute on function f(int) to f205_app;
revoke execute on procedure p() from public;
-- [hazards] authz_update
-- [sql] REVOKE EXECUTE ON FUNCTION public.f(x integer) FROM PUBLIC
-- [sql] GRANT EXECUTE ON FUNCTION public.f(x integer) TO f205_app
-- [sql] REVOKE EXECUTE ON PROCEDURE public.p() FROM PUBLIC
