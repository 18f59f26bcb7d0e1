-- ALTER DEFAULT PRIVILEGES: global, per schema, for another role, and a revoke from PUBLIC
-- [a]
DO $$ BEGIN CREATE ROLE f208_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f208_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create schema app;
alter default privileges for role f208_owner grant select on tables to f208_app;
-- [b]
DO $$ BEGIN CREATE ROLE f208_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f208_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create schema app;
alter default privileges grant select on tables to f208_app;
alter default privileges in schema app grant usage on sequences to f208_app;
alter default privileges revoke execute on functions from public;
alter default privileges for role f208_owner grant select, insert on tables to f208_app;
-- [hazards] authz_update
-- [sql] ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO f208_app
-- [sql] ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT USAGE ON SEQUENCES TO f208_app
-- [sql] ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC
-- [sql] ALTER DEFAULT PRIVILEGES FOR ROLE f208_owner GRANT INSERT ON TABLES TO f208_app
