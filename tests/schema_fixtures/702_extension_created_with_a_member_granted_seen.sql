-- An extension is created and a member of it granted to a role: CREATE EXTENSION does not
-- give that grant, so it is reported as not modeled (it was explained by the new extension
-- and lost silently). The grants the extension's own script makes are not reported.
-- [a]
DO $$ BEGIN CREATE ROLE f702_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f702 (id int);
-- [b]
DO $$ BEGIN CREATE ROLE f702_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f702 (id int);
create extension pg_stat_statements;
grant select on pg_stat_statements_info to f702_reader;
-- [hazards]
-- [sql] CREATE EXTENSION IF NOT EXISTS pg_stat_statements
-- [unsupported] not modeled by the schema engine: extension member view public.pg_stat_statements_info on pg_stat_statements differs (privileges
