-- USAGE on types and domains: taken from PUBLIC, given to a role
-- [a]
DO $$ BEGIN CREATE ROLE f206_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create type mood as enum ('ok', 'sad');
create domain pos as int check (value > 0);
create type pair as (a int, b int);
-- [b]
DO $$ BEGIN CREATE ROLE f206_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create type mood as enum ('ok', 'sad');
create domain pos as int check (value > 0);
create type pair as (a int, b int);
revoke usage on type mood from public;
grant usage on type mood to f206_app;
revoke usage on domain pos from public;
grant usage on type pair to f206_app with grant option;
-- [hazards] authz_update
-- [sql] REVOKE USAGE ON TYPE public.mood FROM PUBLIC
-- [sql] REVOKE USAGE ON DOMAIN public.pos FROM PUBLIC
