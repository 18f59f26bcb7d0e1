-- REVOKE on a table, and a grant option taken back while the privilege stays
-- [a]
DO $$ BEGIN CREATE ROLE f201_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, note text);
grant select, delete on t to f201_reader;
grant update on t to f201_reader with grant option;
-- [b]
DO $$ BEGIN CREATE ROLE f201_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key, note text);
grant update on t to f201_reader;
-- [hazards] authz_update
-- [sql] REVOKE DELETE, SELECT ON TABLE public.t FROM f201_reader
-- [sql] REVOKE GRANT OPTION FOR UPDATE ON TABLE public.t FROM f201_reader
