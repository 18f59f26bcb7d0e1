-- A SECURITY DEFINER function a role may call gets a new body: it runs with its owner's
-- privileges for that role, so what it reads may change although no GRANT changed. Its
-- CREATE OR REPLACE carries an authz_update hazard naming the caller (a SQL-standard body
-- also names the column it now reads). So does a new SECURITY DEFINER function, executable by
-- PUBLIC by default (no GRANT says so). One callable by nobody but its owner does not.
-- [a]
DO $$ BEGIN CREATE ROLE nm_166_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table acct (id int primary key, name text, password_hash text);
create function lookup(i int) returns text language sql stable security definer
  return (select name from acct where id = i);
revoke all on function lookup(int) from public;
grant execute on function lookup(int) to nm_166_app;
create function private_fn(i int) returns text language sql stable security definer
  return (select name from acct where id = i);
revoke all on function private_fn(int) from public;
-- [b]
DO $$ BEGIN CREATE ROLE nm_166_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table acct (id int primary key, name text, password_hash text);
create function lookup(i int) returns text language sql stable security definer
  return (select password_hash from acct where id = i);
revoke all on function lookup(int) from public;
grant execute on function lookup(int) to nm_166_app;
create function private_fn(i int) returns text language sql stable security definer
  return (select password_hash from acct where id = i);
revoke all on function private_fn(int) from public;
create function fresh(i int) returns text language sql stable security definer
  return (select password_hash from acct where id = i);
-- [hazards] authz_update
-- [hazard-text] SECURITY DEFINER function public.lookup(i integer) is callable by role nm_166_app
-- [hazard-text] column public.acct.password_hash
-- [hazard-text] new SECURITY DEFINER function public.fresh(i integer) is callable by PUBLIC (every role)
