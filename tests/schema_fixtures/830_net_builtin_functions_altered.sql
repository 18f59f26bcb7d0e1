-- Built-in functions changed after initdb (a superuser's ALTER FUNCTION on pg_catalog.upper:
-- owner, SECURITY DEFINER, SET search_path, volatility, cost) and a comment on a built-in table:
-- the model leaves built-in objects out, and the net compared only their privileges ("no schema
-- changes", found by an outside attacker; a non-superuser owning pg_catalog.upper can change it
-- for every session). The net now has a row per built-in function whose owner, SECURITY DEFINER
-- or SET differ from initdb's, one per comment on a built-in relation, and a digest of every
-- built-in function's other properties: each reported.
-- [a]
DO $$ BEGIN CREATE ROLE f830_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f830_t (id int);
-- [b]
DO $$ BEGIN CREATE ROLE f830_r; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f830_t (id int);
alter function pg_catalog.upper(text) owner to f830_r;
alter function pg_catalog.md5(text) security definer;
alter function pg_catalog.btrim(text) set search_path = public;
alter function pg_catalog.length(text) volatile;
alter function pg_catalog.lower(text) cost 1000;
comment on table pg_catalog.pg_class is 'f830';
-- [hazards]
-- [unsupported] built-in function pg_catalog.upper(text) differs (definition, owner; only in the desired schema)
-- [unsupported] built-in function pg_catalog.md5(text) differs (definition; only in the desired schema)
-- [unsupported] built-in function pg_catalog.btrim(text) differs (definition; only in the desired schema)
-- [unsupported] built-in functions' names, volatility, strictness, leakproof, parallel safety, cost or rows (PostgreSQL
-- [unsupported] built-in comment table pg_class differs (definition; only in the desired schema)
