-- Default privileges give PUBLIC SELECT on new tables; a view and a materialized view made
-- before them (PUBLIC has no SELECT on them) are rebuilt for a column retype, a function
-- and an enum are created again, in a plan that builds an index concurrently (attack8
-- F-defpriv-window). Each created object and the REVOKE of what it received by default run
-- in one BEGIN … COMMIT; the materialized view, populated in a statement of its own, is
-- named missing until it is back. No privilege hazard: between the two sides nobody gains
-- or loses anything (the plan's REVOKE and GRANT steps only undo the defaults).
-- [a]
DO $$ BEGIN CREATE ROLE f843_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table base (id int primary key, v int, secret text);
create view sv as select id, v, secret from base;
create materialized view smv as select id, secret from base;
grant select on sv to f843_reader;
create type e as enum ('a', 'b');
create table et (id int, x e);
create function f(a int) returns int language sql as 'select a';
alter default privileges grant select on tables to public;
alter default privileges revoke usage on types from public;
alter default privileges revoke execute on functions from public;
-- [b]
DO $$ BEGIN CREATE ROLE f843_reader; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table base (id int primary key, v bigint, secret text);
create view sv as select id, v, secret from base;
create materialized view smv as select id, secret from base;
grant select on sv to f843_reader;
create type e as enum ('b', 'a');
create table et (id int, x e);
create function f(a int) returns bigint language sql as 'select a::bigint';
alter default privileges grant select on tables to public;
alter default privileges revoke usage on types from public;
alter default privileges revoke execute on functions from public;
create index base_v on base (v);
-- [hazards] access_exclusive_lock, correctness, index_build, table_rewrite, untrackable_dependencies
-- [sql] REVOKE SELECT ON TABLE public.sv FROM PUBLIC
-- [hazard-text] the view is missing from here until `CREATE MATERIALIZED VIEW public.smv
