-- schema privileges: USAGE and CREATE to a role, CREATE taken from PUBLIC on public
-- [a]
DO $$ BEGIN CREATE ROLE f204_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create schema app;
-- [b]
DO $$ BEGIN CREATE ROLE f204_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create schema app;
grant usage, create on schema app to f204_app;
revoke usage on schema public from public;
-- [hazards] authz_update
-- [sql] ON SCHEMA app TO f204_app
-- [sql] REVOKE USAGE ON SCHEMA public FROM PUBLIC
