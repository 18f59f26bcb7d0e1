-- The safety net: a role's setting in this database (ALTER ROLE … IN DATABASE … SET) is seen
-- and reported.
-- [a]
DO $$ BEGIN CREATE ROLE f558_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int);
-- [b]
DO $$ BEGIN CREATE ROLE f558_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int);
DO $$ BEGIN EXECUTE format('ALTER ROLE f558_app IN DATABASE %I SET statement_timeout = %L', current_database(), '5s'); END $$;
-- [hazards]
-- [unsupported] not modeled by the schema engine: database setting statement_timeout on role f558_app differs
