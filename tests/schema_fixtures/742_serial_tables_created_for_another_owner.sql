-- New tables owned by another role, with serial and identity columns (and grants on their
-- sequences), beside a concurrent index build that pulls the tables' owner changes up: each
-- `OWNED BY` runs while its table and sequence still have the same owner, and the table's
-- `OWNER TO` then moves its sequences along.
-- [a]
DO $$ BEGIN CREATE ROLE f742_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f742_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table big (id int, x int);
-- [b]
DO $$ BEGIN CREATE ROLE f742_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f742_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table big (id int, x int);
create index bi on big (x);
create table t2 (id serial primary key, x int);
alter table t2 owner to f742_app;
grant usage on sequence t2_id_seq to f742_reader;
create table t3 (id int generated always as identity primary key, y bigserial);
alter table t3 owner to f742_app;
grant select on sequence t3_id_seq to f742_reader;
-- [hazards] authz_update, index_build
-- [sql] ALTER SEQUENCE public.t2_id_seq OWNED BY public.t2.id
-- [sql] ALTER TABLE public.t2 OWNER TO f742_app
