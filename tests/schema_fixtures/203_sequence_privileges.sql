-- privileges on a free sequence and on a serial column's sequence
-- [a]
DO $$ BEGIN CREATE ROLE f203_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create sequence s;
create table t (id serial primary key);
-- [b]
DO $$ BEGIN CREATE ROLE f203_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create sequence s;
create table t (id serial primary key);
grant usage, select on sequence s to f203_app;
grant usage on sequence t_id_seq to f203_app;
-- [hazards] authz_update
-- [sql] ON SEQUENCE public.s TO f203_app
-- [sql] GRANT USAGE ON SEQUENCE public.t_id_seq TO f203_app
