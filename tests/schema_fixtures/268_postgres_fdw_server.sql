-- postgres_fdw (an extension: its wrapper is not planned) with a server, a user mapping for
-- a role of this fixture and a foreign table.
-- [a]
DO $$ BEGIN CREATE ROLE f268_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
-- [b]
DO $$ BEGIN CREATE ROLE f268_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
create extension postgres_fdw;
create server f268_srv foreign data wrapper postgres_fdw options (host 'localhost', dbname 'app', use_remote_estimate 'true');
create user mapping for f268_reader server f268_srv;
create foreign table remote_orders (id bigint, total numeric(10,2)) server f268_srv options (schema_name 'public', table_name 'orders');
-- [hazards] authz_update
-- [sql] CREATE USER MAPPING FOR f268_reader SERVER f268_srv
