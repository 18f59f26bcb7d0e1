-- The safety net: the database's owner is seen and reported; the public schema, owned by
-- pg_database_owner on both sides, is not "changed" (the plan said ALTER SCHEMA public OWNER
-- TO pg_database_owner, a no-op, on every diff; found by an outside attacker).
-- [a]
DO $$ BEGIN CREATE ROLE f607_r2; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f607 (id int);
-- [b]
DO $$ BEGIN CREATE ROLE f607_r2; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f607 (id int);
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I OWNER TO f607_r2', current_database()); END $$;
-- [hazards]
-- [unsupported] not modeled by the schema engine: database (this database) differs (owner)
