-- file_fdw (an extension: its wrapper is not planned) with a server, a user mapping for a
-- role of this fixture and a foreign table with options. (postgres_fdw does not load in the
-- PyPI builds of PostgreSQL 16–18 of the test matrix; file_fdw does.)
-- [a]
DO $$ BEGIN CREATE ROLE f268_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
-- [b]
DO $$ BEGIN CREATE ROLE f268_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create extension file_fdw;
create server f268_srv foreign data wrapper file_fdw;
create user mapping for f268_reader server f268_srv;
create foreign table imported_orders (id bigint, total numeric(10,2)) server f268_srv options (filename '/dev/null', format 'csv', header 'true');
-- [hazards] authz_update
-- [sql] CREATE USER MAPPING FOR f268_reader SERVER f268_srv
-- [sql] CREATE FOREIGN TABLE public.imported_orders
