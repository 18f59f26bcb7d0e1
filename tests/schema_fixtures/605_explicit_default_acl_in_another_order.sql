-- An explicit ACL holding the default's items in another order (REVOKE then GRANT of PUBLIC's
-- USAGE) is the default: only the new table is planned (the net compared them in order and
-- exited 4; found by an outside attacker).
-- [a]
DO $$ BEGIN CREATE ROLE f605_r1; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create type f605_ty as (a int);
revoke usage on type f605_ty from public; grant usage on type f605_ty to public;
create function f605_f() returns int language sql as 'select 1';
revoke execute on function f605_f() from public; grant execute on function f605_f() to public;
create schema f605_s;
grant usage on schema f605_s to f605_r1; revoke usage on schema f605_s from f605_r1;
-- [b]
DO $$ BEGIN CREATE ROLE f605_r1; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create type f605_ty as (a int);
create function f605_f() returns int language sql as 'select 1';
create schema f605_s;
create table f605_new (id int);
-- [hazards]
-- [sql] CREATE TABLE public.f605_new
