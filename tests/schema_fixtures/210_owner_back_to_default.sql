-- a table owned by another role goes back to the role running the migration: OWNER TO CURRENT_USER
-- [a]
DO $$ BEGIN CREATE ROLE f210_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key);
alter table t owner to f210_owner;
-- [b]
DO $$ BEGIN CREATE ROLE f210_owner; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table t (id int primary key);
-- [hazards] authz_update
-- [sql] ALTER TABLE public.t OWNER TO CURRENT_USER
