-- column privileges granted and revoked
-- [a]
DO $$ BEGIN CREATE ROLE f202_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, email text, secret text);
grant select (secret) on t to f202_app;
-- [b]
DO $$ BEGIN CREATE ROLE f202_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, email text, secret text);
grant select (id, email), update (email) on t to f202_app;
-- [hazards] authz_update
-- [sql] GRANT SELECT (email), UPDATE (email) ON TABLE public.t TO f202_app
-- [sql] REVOKE SELECT (secret) ON TABLE public.t FROM f202_app
