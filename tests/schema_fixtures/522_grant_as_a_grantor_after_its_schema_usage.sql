-- A privilege granted by another role (run under SET ROLE) whose grantor gets the schema's
-- USAGE in the same plan: the schema grant comes first (the object grant was planned before
-- it and failed with "permission denied for schema"; found by an outside attacker).
-- [a]
DO $$ BEGIN CREATE ROLE f522_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f522_carol; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create schema f522;
create function f522.f() returns int language sql as 'select 1';
-- [b]
DO $$ BEGIN CREATE ROLE f522_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f522_carol; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create schema f522;
create function f522.f() returns int language sql as 'select 1';
grant usage on schema f522 to f522_alice with grant option;
revoke execute on function f522.f() from public;
grant execute on function f522.f() to f522_alice with grant option;
set role f522_alice;
grant execute on function f522.f() to f522_carol;
reset role;
-- [hazards] authz_update
-- [sql] GRANT USAGE ON SCHEMA f522 TO f522_alice WITH GRANT OPTION
