-- Privileges another role passed on (it holds them WITH GRANT OPTION) are revoked by that
-- role: the owner's (or a superuser's) REVOKE leaves them in place and succeeds, so the plan
-- said "r1 loses SELECT" and r1 kept it (found by an outside attacker). Table and column.
-- [a]
DO $$ BEGIN CREATE ROLE f600_r1; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f600_r2; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f600_r3; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f600 (id int primary key, x int);
grant select, update on f600 to f600_r2 with grant option;
set role f600_r2; grant select on f600 to f600_r1; grant update (x) on f600 to f600_r3; reset role;
-- [b]
DO $$ BEGIN CREATE ROLE f600_r1; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f600_r2; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE f600_r3; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;
create table f600 (id int primary key, x int);
grant select, update on f600 to f600_r2 with grant option;
-- [hazards] authz_update
-- [sql] SET ROLE f600_r2;
-- [sql] REVOKE SELECT ON TABLE public.f600 FROM f600_r1;
-- [sql] REVOKE UPDATE (x) ON TABLE public.f600 FROM f600_r3;
