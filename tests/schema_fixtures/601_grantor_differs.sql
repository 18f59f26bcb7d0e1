-- The same privilege granted by another role vs by the owner differs (DROP OWNED BY r2, or
-- revoking r2's grant option with CASCADE, takes only the first away): the plan re-grants it
-- as the owner and revokes r2's grant (it said "no schema changes"; found by an outside attacker).
-- [a]
DO $$ BEGIN CREATE ROLE f601_r1; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f601_r2; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f601 (id int);
grant select on f601 to f601_r2 with grant option;
set role f601_r2; grant select on f601 to f601_r1; reset role;
create function f601_f() returns int language sql as 'select 1';
revoke execute on function f601_f() from public;
grant execute on function f601_f() to f601_r2 with grant option;
-- [b]
DO $$ BEGIN CREATE ROLE f601_r1; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f601_r2; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f601 (id int);
grant select on f601 to f601_r2 with grant option;
grant select on f601 to f601_r1;
create function f601_f() returns int language sql as 'select 1';
revoke execute on function f601_f() from public;
grant execute on function f601_f() to f601_r2 with grant option;
set role f601_r2; grant execute on function f601_f() to f601_r1; reset role;
-- [hazards] authz_update
-- [sql] GRANT SELECT ON TABLE public.f601 TO f601_r1;
-- [sql] REVOKE SELECT ON TABLE public.f601 FROM f601_r1;
-- [sql] GRANT EXECUTE ON FUNCTION public.f601_f() TO f601_r1;
