-- Objects created under A's default privileges (USAGE on types revoked from PUBLIC, grants to
-- roles) and given B's ACL back: the type's explicit ACL then holds the default's items in
-- another order, which the catalog net read as a difference forever (every later diff exited
-- 4; found by an outside attacker).
-- [a]
DO $$ BEGIN CREATE ROLE f604_r1; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f604_r2; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f604_r3; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
alter default privileges grant select on tables to f604_r1;
alter default privileges grant all on functions to f604_r2;
alter default privileges in schema public grant insert on tables to f604_r3;
alter default privileges revoke usage on types from public;
-- [b]
DO $$ BEGIN CREATE ROLE f604_r1; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f604_r2; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f604_r3; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f604 (id int);
create function f604_f() returns int language sql as 'select 1';
create type f604_ty as (a int);
create view f604_v as select 1 as a;
-- [hazards] authz_update
-- [sql] GRANT USAGE ON TYPE public.f604_ty TO PUBLIC;
