-- A view granted to a role is redefined to read a column it did not read before (attack10
-- p49/F23): no GRANT changes, yet the role now reads every password hash through the view's
-- owner's privileges. The view's CREATE carries an authz_update hazard naming the grantee and
-- the column.
-- [a]
DO $$ BEGIN CREATE ROLE nm_164_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table acct (id int primary key, name text, password_hash text);
create view pub_acct as select id, name from acct;
grant select on pub_acct to nm_164_app;
-- [b]
DO $$ BEGIN CREATE ROLE nm_164_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table acct (id int primary key, name text, password_hash text);
create view pub_acct as select id, name, password_hash from acct;
grant select on pub_acct to nm_164_app;
-- [hazards] authz_update
-- [hazard-text] view public.pub_acct is readable by role nm_164_app
-- [hazard-text] column public.acct.password_hash
