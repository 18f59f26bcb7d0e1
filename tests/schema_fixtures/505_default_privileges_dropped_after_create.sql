-- Default privileges that the plan removes are still in effect when it creates objects: a
-- created table receives them and the plan revokes them again (B's table has none).
-- [a]
DO $$ BEGIN CREATE ROLE f505_writer; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
alter default privileges grant insert, update on tables to f505_writer;
alter default privileges grant usage on sequences to f505_writer;
-- [b]
DO $$ BEGIN CREATE ROLE f505_writer; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f505_t (id int);
create sequence f505_s;
-- [hazards] authz_update
-- [sql] REVOKE INSERT, UPDATE ON TABLE public.f505_t FROM f505_writer
-- [sql] REVOKE USAGE ON SEQUENCE public.f505_s FROM f505_writer
