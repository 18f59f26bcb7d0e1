-- The reverse of 522: what a grantor passed on is revoked (under SET ROLE) before the
-- grantor loses the schema's USAGE (the schema revoke came first and the object revoke then
-- failed with "permission denied for schema"; found by an outside attacker).
-- [a]
DO $$ BEGIN CREATE ROLE f522_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f522_carol; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create schema f523;
create table f523.t (id int);
grant usage on schema f523 to f522_alice;
grant select on f523.t to f522_alice with grant option;
set role f522_alice;
grant select on f523.t to f522_carol;
reset role;
-- [b]
DO $$ BEGIN CREATE ROLE f522_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f522_carol; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create schema f523;
create table f523.t (id int);
-- [hazards] authz_update
-- [sql] REVOKE USAGE ON SCHEMA f523 FROM f522_alice
