-- GRANT on a table, one privilege with the grant option
-- [a]
DO $$ BEGIN CREATE ROLE f200_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, note text);
-- [b]
DO $$ BEGIN CREATE ROLE f200_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, note text);
grant select on t to f200_reader;
grant insert, update on t to f200_reader with grant option;
-- [hazards] authz_update
-- [sql] GRANT SELECT ON TABLE public.t TO f200_reader
-- [sql] WITH GRANT OPTION
