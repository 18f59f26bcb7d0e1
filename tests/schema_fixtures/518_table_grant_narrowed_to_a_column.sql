-- A table-level SELECT narrowed to one column: the table-level REVOKE also takes the
-- column-level SELECT, so it must come before the column GRANT (it came after, and the role
-- was left with nothing; found by an outside attacker).
-- [a]
DO $$ BEGIN CREATE ROLE f518_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f518 (id int, x int);
grant select on f518 to f518_app;
-- [b]
DO $$ BEGIN CREATE ROLE f518_app; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f518 (id int, x int);
grant select (x) on f518 to f518_app;
-- [hazards] authz_update
-- [sql] REVOKE SELECT ON TABLE public.f518 FROM f518_app
-- [sql] GRANT SELECT (x) ON TABLE public.f518 TO f518_app
