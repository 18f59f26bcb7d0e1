-- A composite type's attribute changes type while views read it: the views (and the views
-- over them, with their grants) are dropped before the change and created again after, as
-- around a retyped table column (the plan failed: "cannot alter type of a column used by a
-- view or rule"; found by an outside attacker).
-- [a]
DO $$ BEGIN CREATE ROLE f664_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create type f664_ct as (a int, b text);
create function f664_mk(n int) returns f664_ct language sql as 'select row(n, ''x'')::f664_ct';
create view f664_v as select (f664_mk(1)).a as a, (f664_mk(1)).b as b;
create view f664_v2 as select * from f664_v;
grant select on f664_v2 to f664_app;
-- [b]
DO $$ BEGIN CREATE ROLE f664_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create type f664_ct as (a bigint, b text);
create function f664_mk(n int) returns f664_ct language sql as 'select row(n, ''x'')::f664_ct';
create view f664_v as select (f664_mk(1)).a as a, (f664_mk(1)).b as b;
create view f664_v2 as select * from f664_v;
grant select on f664_v2 to f664_app;
-- (No authz_update: the grant given again is no change between the two sides.)
-- [hazards]
-- [sql] ALTER TYPE public.f664_ct ALTER ATTRIBUTE a TYPE bigint
-- [sql] DROP VIEW public.f664_v2
