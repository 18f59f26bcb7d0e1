-- The safety net: a GRANT on an extension's view after CREATE EXTENSION is seen and reported.
-- [a]
DO $$ BEGIN CREATE ROLE f553_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create extension pg_stat_statements;
-- [b]
DO $$ BEGIN CREATE ROLE f553_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create extension pg_stat_statements;
grant select on pg_stat_statements_info to f553_reader;
-- [hazards]
-- [unsupported] not modeled by the schema engine: extension member view public.pg_stat_statements_info on pg_stat_statements differs (privileges)
