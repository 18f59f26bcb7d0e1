-- The safety net: a privilege on a built-in function (GRANT EXECUTE ON FUNCTION pg_read_file)
-- differs from its initial privileges: reported.
-- [a]
DO $$ BEGIN CREATE ROLE f555_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int);
-- [b]
DO $$ BEGIN CREATE ROLE f555_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int);
grant execute on function pg_read_file(text) to f555_app;
-- [hazards]
-- [unsupported] not modeled by the schema engine: built-in object privileges function pg_catalog.pg_read_file(pg_catalog.text) differs
