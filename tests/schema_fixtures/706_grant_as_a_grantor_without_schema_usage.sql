-- Privileges passed on by a role holding them WITH GRANT OPTION (granted and revoked under
-- SET ROLE) that has no USAGE on the object's schema on either side: the plan gives it USAGE
-- for the statement and takes it back after (the statement failed with "permission denied
-- for schema").
-- [a]
DO $$ BEGIN CREATE ROLE f706_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f706_carol; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create schema f706;
create table f706.t (id int);
create table f706.u (id int);
grant select on f706.t, f706.u to f706_alice with grant option;
grant usage on schema f706 to f706_alice;
set role f706_alice;
grant select on f706.u to f706_carol;
reset role;
revoke usage on schema f706 from f706_alice;
-- [b]
DO $$ BEGIN CREATE ROLE f706_alice; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f706_carol; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create schema f706;
create table f706.t (id int);
create table f706.u (id int);
grant select on f706.t, f706.u to f706_alice with grant option;
grant usage on schema f706 to f706_alice;
set role f706_alice;
grant select on f706.t to f706_carol;
reset role;
revoke usage on schema f706 from f706_alice;
-- [hazards] authz_update
-- [sql] GRANT USAGE ON SCHEMA f706 TO f706_alice;
-- [sql] REVOKE SELECT ON TABLE f706.u FROM f706_carol
